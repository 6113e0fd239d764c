"""FOCUS 1.2 export on the small seed: BilledCost adds up to the invoices, to the cent.

September and October are finalized (October with a credit note), November is a draft: its
rows are the upcoming invoice's while that is current, from the rollups once usage moved on,
and estimates either way.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from fleetspend import rollups
from fleetspend.reads import exports
from tests.conftest import CREDIT_CENTS, CREDITED_INVOICE

MANDATORY = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId",
    "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeDescription",
    "PricingUnit", "ServiceName", "ServiceCategory", "ProviderName", "PublisherName",
    "InvoiceIssuerName",
]


@pytest.fixture
def export(invoiced_engine):
    rollups.refresh(invoiced_engine)
    with invoiced_engine.connect() as connection:
        org_id = connection.execute(text(
            "select org_id from organizations where slug = 'acme'")).scalar_one()
        frame = exports.focus_export(connection, org_id, date(2026, 9, 20), date(2026, 11, 25))
        invoices = connection.execute(text(
            "select invoice_number, period_start_date, status, total_cents, credits_cents "
            "from invoices where org_id = :org order by period_start_date"),
            {"org": org_id}).mappings().all()
    return frame, invoices


def test_billed_cost_adds_up_to_each_finalized_invoice(export):
    frame, invoices = export
    finalized = [invoice for invoice in invoices if invoice["status"] == "finalized"]
    assert len(finalized) == 2
    for invoice in finalized:
        rows = frame[frame.InvoiceId == invoice["invoice_number"]]
        assert sum(rows.BilledCost, Decimal(0)) == Decimal(invoice["total_cents"]) / 100
        assert not rows.x_IsEstimated.any()
        assert set(rows.BillingPeriodStart) == {f"{invoice['period_start_date']}T00:00:00Z"}


def test_a_credit_note_is_a_negative_credit_row(export):
    frame, _ = export
    credits = frame[frame.ChargeCategory == "Credit"]
    assert list(credits.InvoiceId) == [CREDITED_INVOICE]
    assert list(credits.BilledCost) == [Decimal(-CREDIT_CENTS) / 100]
    assert set(frame.ChargeCategory) == {"Usage", "Credit"}


def test_the_upcoming_invoice_is_exported_as_an_estimate_that_adds_up_to_it(export):
    frame, invoices = export
    november = frame[frame.BillingPeriodStart == "2026-11-01T00:00:00Z"]
    draft = next(i for i in invoices if i["period_start_date"] == date(2026, 11, 1))
    assert draft["status"] == "draft"  # drafted, not invoiced: still an estimate
    assert november.x_IsEstimated.all()
    assert set(november.InvoiceId) == {draft["invoice_number"]}
    assert sum(november.BilledCost, Decimal(0)) == Decimal(draft["total_cents"]) / 100


def test_a_month_whose_draft_is_behind_its_usage_is_estimated_from_usage(invoiced_engine):
    with invoiced_engine.begin() as connection:
        org_id = connection.execute(text(
            "select org_id from organizations where slug = 'acme'")).scalar_one()
        # newer usage of November than its draft: the draft's figures are withdrawn
        connection.execute(text(
            "update machine_usage set runtime_seconds = runtime_seconds / 2 "
            "where org_id = :org and hour_at = '2026-11-20T10:00Z'"), {"org": org_id})
    rollups.refresh(invoiced_engine)
    with invoiced_engine.connect() as connection:
        frame = exports.focus_export(connection, org_id, date(2026, 11, 1), date(2026, 11, 25))
        november_cents = connection.execute(text(
            "select cast(round(sum(amount_precise) * 100) as bigint) from rated_usage "
            "where org_id = :org and hour_at >= '2026-11-01T00:00Z' "
            "and hour_at < '2026-12-01T00:00Z'"), {"org": org_id}).scalar_one()
    assert frame.x_IsEstimated.all() and frame.InvoiceId.isna().all()
    assert sum(frame.BilledCost, Decimal(0)) == Decimal(november_cents) / 100
    # each estimated row is within a cent of its unrounded list cost
    assert all(abs(billed - listed) < Decimal("0.01")
               for billed, listed in zip(frame.BilledCost, frame.ListCost, strict=True))


def test_columns_follow_focus(export):
    frame, _ = export
    assert list(frame.columns) == exports.COLUMNS
    usage = frame[frame.ChargeCategory == "Usage"]
    assert usage[MANDATORY].notna().all().all()
    assert usage.ResourceId.notna().all() and usage.SubAccountId.notna().all()
    assert frame.ChargeClass.isna().all()
    assert set(frame.ChargeFrequency) <= {"One-Time", "Recurring", "Usage-Based"}
    assert set(frame.BillingCurrency) == {"USD"}
    assert all(isinstance(value, Decimal) for value in frame.BilledCost)
    ends = dict(zip(frame.BillingPeriodStart, frame.BillingPeriodEnd, strict=True))
    assert ends["2026-10-01T00:00:00Z"] == "2026-11-01T00:00:00Z"


def test_dates_running_backwards_are_refused(invoiced_engine):
    with invoiced_engine.connect() as connection, pytest.raises(ValueError, match="backwards"):
        exports.focus_export(connection, 1, date(2026, 11, 2), date(2026, 11, 1))
