"""FOCUS v1.2 cost-and-usage export of one organization for the months a date range touches.

FOCUS is the FinOps Foundation's open billing data format (columns in
shared/reference/pricing.md). Each row is one charge for one billing period (a calendar
month, UTC):

- a month whose invoice is finalized (or paid) is exported from the invoice itself: one
  ``Usage`` row per invoice line and resource (its allocation, whose cents add up to the
  line), and one ``Credit`` row per credit note with a negative cost, so the month's
  BilledCost adds up to the invoice total exactly;
- a month whose current draft the pages show (the upcoming invoice, see fleetspend/figures.py)
  is exported from that draft the same way, so its BilledCost is the upcoming invoice's
  subtotal, and every row is marked ``x_IsEstimated`` (FOCUS allows custom columns prefixed
  ``x_``);
- any other month (a draft behind newer usage, or none) is estimated from the per-resource
  daily rollup; its rounded total is split over the rows by largest remainder, every row
  marked ``x_IsEstimated``.

Money stays Decimal (dollars with cents) throughout; nothing passes through float.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection

from fleetspend.billing import invoice_status
from fleetspend.money import dollars_exact, largest_remainder, to_cents
from fleetspend.partitions import next_month
from queries import sql

PROVIDER = "fleetspend"
CURRENCY = "USD"
SERVICE_CATEGORIES = {
    "machine_runtime": "Compute",
    "stopped_rootfs": "Storage",
    "volume": "Storage",
    "dedicated_ipv4": "Networking",
    "egress_internet": "Networking",
    "egress_private": "Networking",
}
COLUMNS = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId",
    "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "PricingQuantity", "PricingUnit", "ServiceName",
    "ServiceCategory", "ProviderName", "PublisherName", "InvoiceIssuerName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId",
    "SkuMeter", "ListUnitPrice", "ContractedUnitPrice", "ConsumedQuantity", "ConsumedUnit",
    "PricingCategory", "SubAccountId", "SubAccountName", "Tags", "InvoiceId", "x_IsEstimated",
]


def _month(day: date) -> date:
    return day.replace(day=1)


def _instant(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat().replace(
        "+00:00", "Z")


def _row(org: dict, period_start: date, charge: dict, billed: Decimal, *,
         estimated: bool, invoice_number: str | None) -> dict:
    period_end = next_month(period_start)
    # an adjustment line corrects an earlier month: charged for that month, billed in this one
    charged_from = charge.get("adjusts_period_date") or period_start
    is_credit = charge.get("charge_category") == "Credit"
    product = charge.get("product")
    sku = charge.get("preset_code") or product
    list_cost = Decimal(charge["list_cost"])
    price_list = charge.get("price_list_id")
    return {
        "BilledCost": billed,
        "EffectiveCost": billed,
        "ListCost": list_cost,
        "ContractedCost": list_cost,
        "BillingAccountId": str(org["org_id"]),
        "BillingAccountName": org["name"],
        "BillingCurrency": CURRENCY,
        "BillingPeriodStart": _instant(period_start),
        "BillingPeriodEnd": _instant(period_end),
        "ChargePeriodStart": _instant(charged_from),
        "ChargePeriodEnd": _instant(next_month(charged_from)),
        "ChargeCategory": "Credit" if is_credit else "Usage",
        "ChargeClass": "Correction" if charge.get("adjusts_period_date") else None,
        "ChargeDescription": charge.get("description") or charge.get("product_name"),
        "ChargeFrequency": "One-Time" if is_credit else "Usage-Based",
        "PricingQuantity": charge.get("pricing_quantity"),
        "PricingUnit": charge.get("pricing_unit"),
        "ServiceName": charge.get("product_name") or "Credit",
        "ServiceCategory": SERVICE_CATEGORIES.get(product or "", "Other"),
        "ProviderName": PROVIDER,
        "PublisherName": PROVIDER,
        "InvoiceIssuerName": PROVIDER,
        "RegionId": charge.get("region_code"),
        "RegionName": charge.get("region_city"),
        "ResourceId": charge.get("resource_id"),
        "ResourceName": charge.get("resource_id"),
        "ResourceType": (charge.get("resource_kind") or "").capitalize() or None,
        "SkuId": sku,
        "SkuPriceId": None if price_list is None or sku is None else f"{sku}@{price_list}",
        "SkuMeter": product,
        "ListUnitPrice": charge.get("unit_price"),
        "ContractedUnitPrice": charge.get("unit_price"),
        "ConsumedQuantity": charge.get("consumed_quantity"),
        "ConsumedUnit": charge.get("consumed_unit"),
        "PricingCategory": None if is_credit else "Standard",
        "SubAccountId": None if charge.get("app_id") is None else str(charge["app_id"]),
        "SubAccountName": charge.get("app_name"),
        "Tags": json.dumps({"fleetspend:estimated": estimated}),
        "InvoiceId": invoice_number,
        "x_IsEstimated": estimated,
    }


def focus_export(connection: Connection, org_id: int, first_day: date,
                 last_day: date) -> pd.DataFrame:
    """FOCUS rows for every month from ``first_day``'s to ``last_day``'s (inclusive)."""
    if last_day < first_day:
        raise ValueError(f"the export's dates run backwards: {first_day} to {last_day}")
    start_month, end_month = _month(first_day), next_month(_month(last_day))
    org = dict(connection.execute(
        sql("focus_organization"),
        {"org_id": org_id}).mappings().one())
    invoiced = connection.execute(sql("focus_invoiced_charges"), {
        "org_id": org_id, "start_month": start_month, "end_month": end_month,
        **invoice_status.sealed_params()}).mappings().all()
    rows = [_row(org, charge["period_start_date"], dict(charge),
                 dollars_exact(charge["billed_cents"]),
                 estimated=not invoice_status.is_sealed(charge["status"]),
                 invoice_number=charge["invoice_number"]) for charge in invoiced]
    invoiced_months = {charge["period_start_date"] for charge in invoiced}
    month = start_month
    while month < end_month:
        if month not in invoiced_months:
            rows.extend(_estimated_month(connection, org, month))
        month = next_month(month)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame


def _estimated_month(connection: Connection, org: dict, month: date) -> list[dict]:
    charges = connection.execute(sql("focus_estimated_charges"), {
        "org_id": org["org_id"], "start_date": month,
        "end_date": next_month(month)}).mappings().all()
    costs = [Decimal(charge["list_cost"]) for charge in charges]
    cents = largest_remainder(to_cents(sum(costs, Decimal(0))), costs)
    return [_row(org, month, dict(charge), dollars_exact(share), estimated=True,
                 invoice_number=None) for charge, share in zip(charges, cents, strict=True)]
