"""One figure per month: the rollups the pages read carry each invoiced month's cents.

Invoices round once per line and allocate each line's cents to the machines and volumes that
produced it (billing/sql/allocate_largest_remainder.sql). Rated usage summed some other way
(per team, per app, per day) and rounded per group misses those cents by a few. So for a
month with an invoice, the rollups every page reads (``rollup_usage_*``,
``rollup_org_daily`` and the narrow rollups) hold the invoice's cents instead of rated
amounts, in ``amount_precise`` (as exact dollars):

1. the invoice's cents per app, region, product and (for machine runtime, whose lines are
   per VM size) VM size, from its allocations on the month's own lines and on the adjustment
   lines it carries for earlier months, are spread over that cell's days (and, for products
   priced without a size, the sizes its machines had) in proportion to their rated amounts
   (the per-resource rollup rows summed, which each meter row keeps beside the cents in
   ``rated_amount_precise``: migration 0026), by largest remainder, so they add up to the cell's
   allocations exactly; a negative total (an adjustment bigger than the month's own use)
   spreads the same way, negative. Cents of a cell with no usage left in the month (a late
   correction, an adjustment for an app or region gone since) go on the organization's first
   day of usage in the month, on a row of their own (``resources`` 0, nothing consumed);
2. those cents are the meter rows' amounts, and every other rollup of the month is summed
   from the meter rows again.

Every grouping and every day of the month then adds up to the invoice's subtotal exactly, and
the read queries stay as they are: they sum ``amount_precise`` and round, which is exact on
whole cents. The per-resource rollups keep rated amounts (what a machine's own page
re-rates), and so do the meter rows beside the cents (the weights of the next spread).

Which invoice: a finalized (or paid) one always; a draft (the upcoming invoice) while it is
current. Drafting applies it; when usage of that month changes afterwards (an import), the
refresh of the rollups (:func:`after_refresh`) puts the month back to rated amounts (an
estimate beside a draft that is now behind), and a finalized month's cents are applied again
over its changed rows. ``month_figures`` records which months carry which invoice.

:func:`month_figure` is the one place that says what a month costs as the pages show it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection

from fleetspend import db, rollups
from fleetspend.billing import invoice_status
from fleetspend.partitions import next_month
from fleetspend.sqlfiles import SqlFolder

# The statements (sql/figures/), in the order apply runs them: the cells' cents (temporary
# table figure_cells) for the organizations with an invoice (figure_orgs), written onto the
# meter rows, the org rows summed from them (figure_org_days), the monthly meter rows summed
# again; then the month recorded as carrying the invoice.
_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "figures")
_WRITE_METER_ROWS = ("month_figure_orgs", "delete_figure_meter_rows", "set_meter_row_cents",
                     "insert_unplaced_meter_rows", "delete_figure_org_rows", "figure_org_days",
                     "set_org_row_cents", "insert_unplaced_org_rows", "delete_figure_months",
                     "insert_figure_months", "record_month_figures")
# withdraw's statements, in order, each continuing withdrawn_months
_WITHDRAW = ("delete_withdrawn_meter_rows", "rate_withdrawn_meter_rows",
             "delete_withdrawn_org_rows", "rate_withdrawn_org_rows", "delete_withdrawn_months",
             "insert_withdrawn_months")


def _month_days(month: date) -> list[date]:
    following = next_month(month)
    return [month + timedelta(days=offset) for offset in range((following - month).days)]


def apply(connection: Connection, month: date, org_ids: list[int]) -> None:
    """Put the month's invoice of each of ``org_ids`` (those that have one) into the rollups.

    Inside the caller's transaction; rewrites whatever the rollups held for those months.
    """
    if not org_ids:
        return
    params = {"month_date": month, "next_month_date": next_month(month),
              "org_ids": sorted(set(org_ids))}
    rollups.sort_in_memory(connection)
    connection.execute(_STATEMENTS.sql("spread_cents"), params)
    for name in _WRITE_METER_ROWS:
        # the meter rows updated in the cells' (key) order: hashed, not probed one by one
        # (sql/figures/set_meter_row_cents.sql)
        planner = {"enable_nestloop": "off"} if name == "set_meter_row_cents" else {}
        with db.local_settings(connection, planner):
            connection.execute(_STATEMENTS.sql(name), params)
    applied = connection.execute(_STATEMENTS.sql("applied_orgs")).scalars().all()
    connection.execute(_STATEMENTS.sql("drop_figure_tables"))
    if applied:
        rollups.refold_narrow(connection, [(org_id, day) for org_id in applied
                                           for day in _month_days(month)])
        rollups.store_anomalies(connection, applied)


def withdraw(connection: Connection, org_months: list[tuple[int, date]]) -> None:
    """Put (org, month)s back to rated amounts: they no longer carry an invoice's figures.

    Each meter row keeps its rated amount beside the cents (the per-resource rows summed), so
    the month goes back without reading the per-resource rows: the figures' own rows go, the
    meter rows take back their rated amounts, the org rows the sums of those, the monthly meter
    rows are summed again from the meter rows, then the narrow rows from both.
    """
    if not org_months:
        return
    months = {"org_ids": [org_id for org_id, _ in org_months],
              "month_dates": [month for _, month in org_months]}
    connection.execute(_STATEMENTS.sql("forget_month_figures"), months)
    rollups.sort_in_memory(connection)
    for name in _WITHDRAW:
        connection.execute(_STATEMENTS.sql("withdrawn_months", name), months)
    rollups.refold_narrow(connection, [(org_id, day) for org_id, month in org_months
                                       for day in _month_days(month)])


def after_refresh(connection: Connection, org_months: set[tuple[int, date]], *,
                  full: bool) -> None:
    """Keep the figures of (org, month)s whose rollups a refresh just recomputed in part.

    A sealed invoice's cents are applied again over the month's new rows. A draft's month goes
    back to rated amounts, since its usage changed after the draft; unless the refresh was a
    full rebuild (a repair, not new usage), after which a draft applied before is applied again.
    """
    if not org_months:
        return
    params = {"org_ids": sorted({org_id for org_id, _ in org_months}),
              "month_dates": sorted({month for _, month in org_months})}
    figured = {(row.org_id, row.month_date)
               for row in connection.execute(_STATEMENTS.sql("figured_months"), params)}
    sealed_or_draft = {(row.org_id, row.month_date): row.status
                       for row in connection.execute(_STATEMENTS.sql("month_invoices"), params)}
    to_apply: dict[date, list[int]] = defaultdict(list)
    to_withdraw = []
    for org_id, month in sorted(org_months):
        month_status = sealed_or_draft.get((org_id, month))
        if invoice_status.is_sealed(month_status) or (
                month_status == invoice_status.DRAFT and full and (org_id, month) in figured):
            to_apply[month].append(org_id)
        elif (org_id, month) in figured:
            to_withdraw.append((org_id, month))
    withdraw(connection, to_withdraw)
    for month, month_org_ids in sorted(to_apply.items()):
        apply(connection, month, month_org_ids)


@dataclass(frozen=True)
class MonthFigure:
    """What one organization's month costs as every page shows it."""

    month_date: date
    amount_cents: int
    invoice_number: str | None  # the invoice whose cents these are, if any
    is_estimate: bool  # not a finalized or paid invoice's figure


def month_figure(connection: Connection, org_id: int, month: date) -> MonthFigure:
    """The month's spend of ``org_id`` in cents as the pages show it: the invoice's subtotal
    where the month carries an invoice's figures (finalized, or the current draft), else the
    rated usage rounded once; an estimate unless the invoice is finalized or paid.

    Reads with the caller's rights: a caller who may not read invoices gets the same cents,
    without the invoice number, as an estimate unless (by their view) it is not one.
    """
    if month.day != 1:
        raise ValueError(f"a month starts on its first day, not {month}")
    row = connection.execute(_STATEMENTS.sql("month_figure"), {
        "org_id": org_id, "month_date": month, "next_month_date": next_month(month)}).one()
    return MonthFigure(month_date=month, amount_cents=int(row.amount_cents),
                       invoice_number=row.invoice_number,
                       is_estimate=not invoice_status.is_sealed(row.status))
