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
   (the per-resource rollup rows summed), by largest remainder, so they add up to the cell's
   allocations exactly; a negative total (an adjustment bigger than the month's own use)
   spreads the same way, negative. Cents of a cell with no usage left in the month (a late
   correction, an adjustment for an app or region gone since) go on the organization's first
   day of usage in the month, on a row of their own (``resources`` 0, nothing consumed);
2. those cents are the meter rows' amounts, and every other rollup of the month is summed
   from the meter rows again.

Every grouping and every day of the month then adds up to the invoice's subtotal exactly, and
the read queries stay as they are: they sum ``amount_precise`` and round, which is exact on
whole cents. The per-resource rollups keep rated amounts (they are the weights, and what a
machine's own page re-rates).

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

from sqlalchemy import Connection, text

from fleetspend import rollups
from fleetspend.billing import invoice_status
from fleetspend.partitions import next_month

# each cell's cents spread over its days of the month; see the module docstring
SPREAD_CENTS_SQL = """
create temp table figure_cells on commit drop as
with applied as (
    select invoices.org_id, invoices.invoice_id
    from invoices
    where invoices.period_start_date = :month_date
      and invoices.org_id = any(cast(:org_ids as bigint[]))
      and invoices.status <> 'void'
),

-- the invoice's cents per app, region, product and, for machine runtime, VM size (lines of
-- other products have none: null matches every size), adjustment lines included
billed as (
    select
        allocations.org_id,
        allocations.app_id,
        lines.region_code,
        lines.product,
        case when lines.product = 'machine_runtime' then lines.preset_code end as preset_code,
        sum(allocations.amount_cents) as cents
    from applied
    inner join invoice_lines as lines
        on lines.org_id = applied.org_id and lines.invoice_id = applied.invoice_id
    inner join invoice_allocations as allocations
        on allocations.org_id = lines.org_id
        and allocations.invoice_id = lines.invoice_id
        and allocations.line_no = lines.line_no
    group by 1, 2, 3, 4, 5
),

-- the month's rated amounts per day and meter row (the per-resource rows keep them)
used as (
    select
        daily.org_id, daily.usage_date, daily.app_id, daily.region_code, daily.preset_code,
        daily.product, sum(daily.amount_precise) as amount_precise
    from rollup_resource_daily as daily
    inner join applied on applied.org_id = daily.org_id
    where daily.usage_date >= :month_date
      and daily.usage_date < :next_month_date
    group by 1, 2, 3, 4, 5, 6
),

matched as (
    select used.*, billed.preset_code as billed_preset_code, billed.cents
    from used
    inner join billed
        on billed.org_id = used.org_id
        and billed.app_id = used.app_id
        and billed.region_code = used.region_code
        and billed.product = used.product
        and (billed.preset_code is null or billed.preset_code = used.preset_code)
),

-- a row's proportional share of its cell's cents (their absolute value; a cell whose rows
-- rated nothing has them all on its first row)
shares as (
    select
        matched.*,
        case
            when sum(matched.amount_precise) over cell = 0
                then case when row_number() over (cell order by matched.usage_date,
                                                  matched.preset_code) = 1
                          then abs(matched.cents) else 0 end
            else abs(matched.cents) * matched.amount_precise
                 / sum(matched.amount_precise) over cell
        end as share
    from matched
    window cell as (partition by matched.org_id, matched.app_id, matched.region_code,
                    matched.product, matched.billed_preset_code)
),

floored as (
    select shares.*, floor(shares.share)::bigint as floor_cents
    from shares
),

-- the cents the floors leave over go one each to the largest fractional parts
ranked as (
    select
        floored.*,
        abs(floored.cents) - sum(floored.floor_cents) over cell as leftover_cents,
        row_number() over (cell order by floored.share - floored.floor_cents desc,
                           floored.usage_date, floored.preset_code) as remainder_rank
    from floored
    window cell as (partition by floored.org_id, floored.app_id, floored.region_code,
                    floored.product, floored.billed_preset_code)
),

spread as (
    select
        org_id, usage_date, app_id, region_code, preset_code, product,
        sign(cents)::bigint * (floor_cents + case when remainder_rank <= leftover_cents
                                                  then 1 else 0 end) as cents
    from ranked
),

first_days as (
    select org_id, min(usage_date) as usage_date
    from used
    group by 1
),

-- cells billed with no usage left in the month
unplaced as (
    select
        billed.org_id,
        coalesce(first_days.usage_date, cast(:month_date as date)) as usage_date,
        billed.app_id, billed.region_code, coalesce(billed.preset_code, '') as preset_code,
        billed.product, billed.cents
    from billed
    left join first_days on first_days.org_id = billed.org_id
    where not exists (
        select from matched
        where matched.org_id = billed.org_id
          and matched.app_id = billed.app_id
          and matched.region_code = billed.region_code
          and matched.product = billed.product
          and matched.billed_preset_code is not distinct from billed.preset_code
    )
)

select org_id, usage_date, app_id, region_code, preset_code, product, sum(cents) as cents
from (
    select * from spread
    union all
    select * from unplaced
) as placed
group by 1, 2, 3, 4, 5, 6
"""

_IN_MONTH = """
org_id in (select org_id from figure_orgs)
and usage_date >= :month_date and usage_date < :next_month_date"""

_SAME_METER_ROW = """daily.org_id = cells.org_id and daily.usage_date = cells.usage_date
    and daily.app_id = cells.app_id and daily.region_code = cells.region_code
    and daily.preset_code = cells.preset_code and daily.product = cells.product"""

WRITE_METER_ROWS = [
    text("""
create temp table figure_orgs on commit drop as
select org_id, min(invoice_id) as invoice_id
from invoices
where period_start_date = :month_date
  and org_id = any(cast(:org_ids as bigint[]))
  and status <> 'void'
group by 1
"""),
    # the rows of earlier figures with nothing consumed go; every other row takes its cents
    # (none: zero), in one pass
    text(f"delete from rollup_usage_daily where resources = 0 and {_IN_MONTH}"),  # noqa: S608
    text("""
update rollup_usage_daily as daily
set amount_precise = coalesce(cells.cents, 0) / 100.0
from rollup_usage_daily as month_row
left join figure_cells as cells
    on month_row.org_id = cells.org_id and month_row.usage_date = cells.usage_date
    and month_row.app_id = cells.app_id and month_row.region_code = cells.region_code
    and month_row.preset_code = cells.preset_code and month_row.product = cells.product
where month_row.org_id in (select org_id from figure_orgs)
  and month_row.usage_date >= :month_date and month_row.usage_date < :next_month_date
  and daily.org_id = month_row.org_id and daily.usage_date = month_row.usage_date
  and daily.app_id = month_row.app_id and daily.region_code = month_row.region_code
  and daily.preset_code = month_row.preset_code and daily.product = month_row.product
"""),
    text(f"""
insert into rollup_usage_daily (
    org_id, usage_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at
)
select cells.org_id, cells.usage_date, cells.app_id, cells.region_code, cells.preset_code,
       cells.product, 0, 0, cells.cents / 100.0, 0,
       cast(cells.usage_date as timestamp) at time zone 'UTC'
from figure_cells as cells
where not exists (select from rollup_usage_daily as daily where {_SAME_METER_ROW})
"""),  # noqa: S608
    # the org rows: sums of the meter rows, with the machines counted as before
    text(f"delete from rollup_org_daily where resources = 0 and {_IN_MONTH}"),  # noqa: S608
    text(f"""
create temp table figure_org_days on commit drop as
select org_id, usage_date, product, sum(amount_precise) as amount_precise
from rollup_usage_daily
where {_IN_MONTH}
group by 1, 2, 3
"""),  # noqa: S608
    text("""
update rollup_org_daily as org_daily
set amount_precise = sums.amount_precise
from figure_org_days as sums
where org_daily.org_id = sums.org_id
  and org_daily.usage_date = sums.usage_date
  and org_daily.product = sums.product
"""),
    text("""
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select sums.org_id, sums.usage_date, sums.product, 0, 0, sums.amount_precise, 0
from figure_org_days as sums
where not exists (
    select from rollup_org_daily as org_daily
    where org_daily.org_id = sums.org_id
      and org_daily.usage_date = sums.usage_date
      and org_daily.product = sums.product
)
"""),
    # the month's meter rows, summed again from its days
    text("""
delete from rollup_usage_monthly
where org_id in (select org_id from figure_orgs) and month_date = :month_date
"""),
    text(f"""
insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select org_id, cast(:month_date as date), app_id, region_code, preset_code, product,
       sum(consumed_quantity), sum(pricing_quantity), sum(amount_precise), count(*)
from rollup_usage_daily
where {_IN_MONTH}
group by 1, 2, 3, 4, 5, 6
order by 1, 3
"""),  # noqa: S608
    text("""
insert into month_figures (org_id, month_date, invoice_id)
select org_id, :month_date, invoice_id from figure_orgs
on conflict (org_id, month_date) do update
set invoice_id = excluded.invoice_id, applied_at = now()
"""),
]

DROP_TEMPORARY = text("drop table figure_cells, figure_orgs, figure_org_days")

FIGURED_MONTHS = text("""
select month_figures.org_id, month_figures.month_date
from month_figures
where month_figures.org_id = any(cast(:org_ids as bigint[]))
  and month_figures.month_date = any(cast(:month_dates as date[]))
""")

# the invoice each of some (org, month)s has, if any, and whether it is sealed
MONTH_INVOICES = text("""
select invoices.org_id, invoices.period_start_date as month_date, invoices.status
from invoices
where invoices.org_id = any(cast(:org_ids as bigint[]))
  and invoices.period_start_date = any(cast(:month_dates as date[]))
  and invoices.status <> 'void'
""")


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
    # a month of the biggest organization is a million per-resource rows: hash and sort them
    # in memory
    connection.execute(text("select set_config('work_mem', '256MB', true)"))
    connection.execute(text(SPREAD_CENTS_SQL), params)
    for statement in WRITE_METER_ROWS:
        connection.execute(statement, params)
    applied = connection.execute(text("select org_id from figure_orgs")).scalars().all()
    connection.execute(DROP_TEMPORARY)
    if applied:
        rollups.refold_narrow(connection, [(org_id, day) for org_id in applied
                                           for day in _month_days(month)])
        rollups.store_anomalies(connection, applied)


def withdraw(connection: Connection, org_months: list[tuple[int, date]]) -> None:
    """Put (org, month)s back to rated amounts: their meter, org and narrow rollups are summed
    again from the per-resource rows, and they no longer carry an invoice's figures."""
    if not org_months:
        return
    connection.execute(text(
        "delete from month_figures where (org_id, month_date) in "
        "(select * from unnest(cast(:org_ids as bigint[]), cast(:month_dates as date[])))"),
        {"org_ids": [org_id for org_id, _ in org_months],
         "month_dates": [month for _, month in org_months]})
    rollups.refold_meters(connection, [(org_id, day) for org_id, month in org_months
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
               for row in connection.execute(FIGURED_MONTHS, params)}
    sealed_or_draft = {(row.org_id, row.month_date): row.status
                       for row in connection.execute(MONTH_INVOICES, params)}
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


MONTH_FIGURE_SQL = text("""
select
    (select cast(round(coalesce(sum(amount_precise), 0) * 100) as bigint)
     from rollup_org_daily
     where org_id = :org_id
       and usage_date >= :month_date
       and usage_date < :next_month_date) as amount_cents,
    invoices.invoice_number,
    invoices.status
from (select 1) as one
left join month_figures
    on month_figures.org_id = :org_id and month_figures.month_date = :month_date
left join invoices
    on invoices.org_id = month_figures.org_id
    and invoices.invoice_id = month_figures.invoice_id
""")


def month_figure(connection: Connection, org_id: int, month: date) -> MonthFigure:
    """The month's spend of ``org_id`` in cents as the pages show it: the invoice's subtotal
    where the month carries an invoice's figures (finalized, or the current draft), else the
    rated usage rounded once; an estimate unless the invoice is finalized or paid.

    Reads with the caller's rights: a caller who may not read invoices gets the same cents,
    without the invoice number, as an estimate unless (by their view) it is not one.
    """
    if month.day != 1:
        raise ValueError(f"a month starts on its first day, not {month}")
    row = connection.execute(MONTH_FIGURE_SQL, {
        "org_id": org_id, "month_date": month, "next_month_date": next_month(month)}).one()
    return MonthFigure(month_date=month, amount_cents=int(row.amount_cents),
                       invoice_number=row.invoice_number,
                       is_estimate=not invoice_status.is_sealed(row.status))
