"""Rating one calendar month of usage into invoice lines and per-resource allocations.

Everything is set-based SQL over the ``rated_usage`` view (migration 0002), which prices each
hourly usage row with the price list in force at that hour:

- machine runtime, per second: ``(cpus * vcpu_rate + max(0, ram_gb - cpus * included_gb) *
  ram_rate) * region_markup`` (reference/pricing.md). RAM comes in 256 MB steps, so the extra
  RAM is a whole number of quarter-GBs and the marked-up per-second price is exact at 18
  decimals.
- the region markup applies to machine runtime only, as the published list does; stopped
  root filesystems, volumes and dedicated IPv4 are priced the same in every region, and egress
  is priced by the egress group of the region the traffic leaves.
- each hourly row's ``amount_precise = round(consumed * unit_price / consumed_per_pricing_unit,
  18)``: exact for runtime, 18 decimals for the GB-month and IP-month products.

Rounding rule (the only one): a line's cents are its precise amount (the sum of its rows'
``amount_precise``) rounded once, half up, to whole cents. Nothing else is rounded to cents
except allocations, which split a line's cents by largest remainder (see allocation.py).

A line is one product x region x price list, further split by preset and memory for machine
runtime and carrying the egress group for egress. A price change inside the month therefore
gives two lines, one per price list. ``stage_month`` leaves three temporary tables, dropped at
commit, that drafting copies into the invoice tables and verification compares with them:

- ``rated_resources``: per line and machine or volume, the quantities and precise amount;
- ``rated_lines``: per org and line, its key, quantities, unit price and amounts;
- ``rated_allocations``: per line and resource, its cents (largest remainder).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

from fleetspend.billing.allocation import LARGEST_REMAINDER_SQL

# the order lines appear in on an invoice
PRODUCT_ORDER = [
    "machine_runtime", "stopped_rootfs", "volume", "dedicated_ipv4", "egress_internet",
    "egress_private",
]

RATED_RESOURCES_SQL = """
create temp table rated_resources on commit drop as
with month_usage as (
    select rated_usage.org_id,
           rated_usage.product,
           rated_usage.price_list_id,
           rated_usage.region_code,
           case when rated_usage.product = 'machine_runtime' then rated_usage.preset_code end
               as preset_code,
           case when rated_usage.product = 'machine_runtime' then rated_usage.memory_mb end
               as memory_mb,
           case when rated_usage.product like 'egress%' then rated_usage.egress_group end
               as egress_group,
           rated_usage.unit_price,
           rated_usage.consumed_unit,
           rated_usage.pricing_unit,
           rated_usage.resource_kind,
           rated_usage.resource_id,
           rated_usage.app_id,
           sum(rated_usage.consumed_quantity) as consumed_quantity,
           sum(rated_usage.pricing_quantity) as quantity,
           sum(rated_usage.amount_precise) as amount_precise
    from rated_usage
    where rated_usage.hour_at >= :period_start_at
      and rated_usage.hour_at < :period_end_at
      and rated_usage.org_id = any(:org_ids)
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
)

select month_usage.*,
       dense_rank() over (
           partition by month_usage.org_id
           order by array_position(cast(:product_order as text[]), month_usage.product),
                    month_usage.region_code, month_usage.preset_code, month_usage.memory_mb,
                    month_usage.egress_group, month_usage.price_list_id, month_usage.unit_price
       ) as line_no
from month_usage
"""

RATED_LINES_SQL = """
create temp table rated_lines on commit drop as
with lines as (
    select rated_resources.org_id,
           rated_resources.line_no,
           rated_resources.product,
           rated_resources.price_list_id,
           rated_resources.region_code,
           rated_resources.preset_code,
           rated_resources.memory_mb,
           rated_resources.egress_group,
           rated_resources.unit_price,
           rated_resources.consumed_unit,
           rated_resources.pricing_unit,
           sum(rated_resources.consumed_quantity) as consumed_quantity,
           sum(rated_resources.quantity) as quantity,
           sum(rated_resources.amount_precise) as amount_precise
    from rated_resources
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
)

select lines.*,
       -- the rounding rule: once per line, half up, to whole cents
       round(lines.amount_precise * 100)::bigint as amount_cents,
       case
           when lines.product = 'machine_runtime'
               then format('%s %s MB in %s', lines.preset_code, lines.memory_mb,
                           lines.region_code)
           when lines.product like 'egress%'
               then format('%s from %s (%s)', products.name, lines.region_code,
                           egress_groups.name)
           else format('%s in %s', products.name, lines.region_code)
       end || format(', %s', price_lists.name) as description
from lines
join products on products.product = lines.product
join price_lists on price_lists.price_list_id = lines.price_list_id
left join egress_groups on egress_groups.egress_group = lines.egress_group
"""


def month_bounds(period_start: date) -> tuple[datetime, datetime]:
    """The first instant of the month starting at ``period_start`` and of the next, in UTC."""
    if period_start.day != 1:
        raise ValueError(f"a billing period starts on the 1st, not {period_start.isoformat()}")
    start = datetime(period_start.year, period_start.month, 1, tzinfo=UTC)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


def parse_month(value: str) -> date:
    """``YYYY-MM`` -> the first day of that month; a clear error for anything else."""
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise ValueError(f"month must look like 2026-10 (YYYY-MM), got {value!r}") from None
    return parsed.date()


def stage_month(connection: Connection, period_start: date, org_ids: list[int]) -> None:
    """Rate the month for ``org_ids`` into rated_resources, rated_lines, rated_allocations.

    The tables are temporary and dropped at commit; staging twice in one transaction replaces
    them.
    """
    start, end = month_bounds(period_start)
    for table in ("rated_allocations", "rated_lines", "rated_resources"):
        connection.exec_driver_sql(f"drop table if exists pg_temp.{table}")
    connection.execute(text(RATED_RESOURCES_SQL), {
        "period_start_at": start, "period_end_at": end, "org_ids": org_ids,
        "product_order": PRODUCT_ORDER,
    })
    connection.execute(text(RATED_LINES_SQL))
    connection.execute(text(LARGEST_REMAINDER_SQL))
    for table in ("rated_resources", "rated_lines", "rated_allocations"):
        connection.exec_driver_sql(f"analyze pg_temp.{table}")
