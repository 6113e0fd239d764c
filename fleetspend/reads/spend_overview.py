"""The spend overview's read: every figure of the page from one snapshot (the month so far
beside the month before, the forecast, the top values, the daily trend, the map and the
anomalies); the treemap's, read only when its expander is open, on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection

from fleetspend.anomaly_search import TREND_DAYS, Anomaly, read_anomalies
from fleetspend.billing import invoice_status
from fleetspend.clock import DAY, AsOf, as_of
from fleetspend.forecasting import Forecast, forecast_month
from fleetspend.money import shares
from fleetspend.reads.readmodels import read_frame
from queries import sql

TOP = 5


@dataclass(frozen=True)
class Share:
    """One of the top values of a dimension in the month so far."""

    key: str
    label: str
    amount_cents: int
    share_percent: Decimal


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows, read in one snapshot."""

    now: AsOf | None
    month_cents: int = 0
    is_invoiced: bool = False  # the month's invoice is finalized (else the figure is estimated)
    previous_cents: int = 0
    previous_through: date | None = None
    forecast: Forecast | None = None
    invoice: dict | None = None  # the month's invoice row (draft or final), admins only
    may_see_invoices: bool = False
    top: dict[str, list[Share]] = field(default_factory=dict)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    anomalies: list[Anomaly] = field(default_factory=list)


def read_top(connection: Connection, org_id: int, month_start: date, month_total: Decimal,
             top: int | None = TOP) -> dict[str, list[Share]]:
    """The biggest ``top`` apps, regions and VM sizes of a month (so far), from one statement
    (None: every value), with their shares of ``month_total``."""
    frame = read_frame(connection, "overview_top_values",
                       {"org_id": org_id, "month_date": month_start, "top": top})
    found: dict[str, list[Share]] = {}
    for dimension in ("app", "region", "preset"):
        rows = frame[frame.dimension == dimension]
        percents = shares(list(rows.amount_precise), month_total)
        found[dimension] = [
            Share(key=key, label=label, amount_cents=int(cents), share_percent=percent)
            for key, label, cents, percent in zip(rows.key, rows.label, rows.amount_cents,
                                                  percents, strict=True)]
    return found


def read_overview(connection: Connection, org_id: int, *, may_see_invoices: bool) -> Overview:
    """Every figure of the overview from one connection (one snapshot)."""
    through_at = connection.execute(sql("usage_complete_through"), {"org_id": org_id}).scalar()
    return read_overview_through(connection, org_id, through_at,
                                 may_see_invoices=may_see_invoices)


def read_overview_through(connection: Connection, org_id: int, through_at: datetime | None, *,
                          may_see_invoices: bool) -> Overview:
    """:func:`read_overview` with the usage high mark read already in the same snapshot."""
    if through_at is None:
        return Overview(now=None)
    now = as_of(through_at)
    mtd = connection.execute(sql("spend_month_to_date"), {
        "org_id": org_id, "as_of_date": now.last_day}).mappings().one()
    trend_start = now.last_day - DAY * (TREND_DAYS - 1)
    # the anomaly baselines need three weeks before the first day shown
    daily_spend = read_frame(connection, "spend_by_period", {
        "org_id": org_id, "start_date": trend_start - 21 * DAY, "end_date": now.last_day + DAY,
        "grain": "day"})
    complete_until = now.last_day + DAY if now.is_last_day_complete else now.last_day
    complete = daily_spend[daily_spend.period_start_date < complete_until]
    forecast = forecast_month(mtd["amount_precise"], list(complete.amount_precise),
                              now.remaining_days)
    invoice = None
    if may_see_invoices:
        row = connection.execute(sql("month_invoice"), {
            "org_id": org_id, "month_date": now.month_start}).mappings().first()
        invoice = None if row is None else dict(row)
    month_total = mtd["amount_precise"]
    return Overview(
        now=now,
        month_cents=int(mtd["amount_cents"]),
        is_invoiced=bool(invoice and invoice_status.is_sealed(invoice["status"])),
        previous_cents=int(mtd["previous_amount_cents"]),
        previous_through=mtd["previous_as_of_date"],
        forecast=forecast,
        invoice=invoice,
        may_see_invoices=may_see_invoices,
        top=read_top(connection, org_id, now.month_start, month_total),
        daily=daily_spend[daily_spend.period_start_date >= trend_start].reset_index(drop=True),
        regions=read_frame(connection, "spend_by_region_located",
                       {"org_id": org_id, "month_date": now.month_start}),
        anomalies=read_anomalies(connection, org_id, now),
    )


def read_treemap(connection: Connection, org_id: int, month_start: date) -> pd.DataFrame:
    """The month's spend by team, app and VM size: the treemap's boxes."""
    return read_frame(connection, "spend_by_team_app_preset",
                      {"org_id": org_id, "month_date": month_start})
