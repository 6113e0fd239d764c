"""Rating one calendar month of usage into invoice lines and per-resource allocations.

The ``rated_usage`` view (migration 0002) defines the price of every hourly usage row, with
the price list in force at that hour:

- machine runtime, per second: ``(cpus * vcpu_rate + max(0, ram_gb - cpus * included_gb) *
  ram_rate) * region_markup`` (reference/pricing.md). RAM comes in 256 MB steps, so the extra
  RAM is a whole number of quarter-GBs and the marked-up per-second price is exact at 18
  decimals.
- the region markup applies to machine runtime only, as the published list does; stopped
  root filesystems, volumes and dedicated IPv4 are priced the same in every region, and egress
  is priced by the egress group of the region the traffic leaves.
- each hourly row's ``amount_precise = round(consumed * unit_price / consumed_per_pricing_unit,
  18)`` in the view, which the read path's rollups sum.

A month's invoice is not computed by scanning the view: one parallel pass sums the hourly
meters per machine, size and price list, and the sums are priced with the view's rates
(``runtime_rates``, ``price_book``). The rollup rebuild (rollups.rebuild_in) prices the same
passes a day at a time, and the fold (rollups.ADD_RESOURCE_HOURS) the new hours' passes, with the
view's per-hour amounts.

Rounding rule (the only one): a line's precise amount is its summed quantity times its unit
price, with nothing rounded before (``consumed * unit_price / consumed_per_pricing_unit``); its
cents are that amount rounded once, half up, computed in integers so an exact half cent is
never a hair short. Nothing else is rounded to cents except allocations, which split a line's
cents by largest remainder (see sql/allocate_largest_remainder.sql).
tests/db/test_billing_invariants.py checks every line against the view's summed quantities
priced with exact fractions.

A line is one product x region x price list, further split by preset and memory for machine
runtime and carrying the egress group for egress. A price change inside the month therefore
gives two lines, one per price list. ``stage_month`` leaves three temporary tables, dropped at
commit, that drafting copies into the invoice tables and verification compares with them:

- ``rated_resources``: per line and machine or volume, the quantities and precise amount;
- ``rated_lines``: per org and line, its key, quantities, unit price and amounts;
- ``rated_allocations``: per line and resource, its cents (largest remainder).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Row, TextClause

from fleetspend import db
from fleetspend.billing import statements, temporary

# the order lines appear in on an invoice
PRODUCT_ORDER = [
    "machine_runtime", "stopped_rootfs", "volume", "dedicated_ipv4", "egress_internet",
    "egress_private",
]

# The passes over hourly machine and volume rows per grain, one per price list in force,
# each of four files: the head creates the sums table (first price list) or adds to it, the
# body sums, the third file names the grain's columns, the fourth the rows read. Invoices sum
# whole months (one row per machine, size and price list; no day, no last hours); the rollup
# rebuild sums UTC days; a fold sums some hours (found through the primary key), per UTC day.
_SUMS_HEADS = {"machine_sums": ("create_machine_sums", "insert_machine_sums"),
               "volume_sums": ("create_volume_sums", "insert_volume_sums")}
_SUMS_PASSES = {
    "month": (("machine_sums", "machine_sums_by_month", "machine_sums_from_usage"),
              ("volume_sums", "volume_sums_by_month", "volume_sums_from_usage")),
    "day": (("machine_sums", "machine_sums_by_day", "machine_sums_from_usage"),
            ("volume_sums", "volume_sums_by_day", "volume_sums_from_usage")),
    "hour": (("machine_sums", "machine_sums_by_day", "machine_sums_from_hours"),
             ("volume_sums", "volume_sums_by_day", "volume_sums_from_hours")),
}

# The CTEs that price the staged sums into ``resource_products`` (sql/resource_products.sql),
# for statements composed elsewhere (the rollups) to put after their "with".
RESOURCE_PRODUCTS_CTES = statements.catalog()["resource_products"]


class BillingError(Exception):
    """A billing request that cannot be carried out, with a message for the operator."""


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


_HASH_AGGREGATE_ONLY = ("enable_sort", "enable_incremental_sort", "enable_indexscan")


def _price_periods(connection: Connection, start: datetime, end: datetime) -> Sequence[Row]:
    """The price lists in force during [start, end), checked to cover it without a gap."""
    periods = connection.execute(
        statements.sql("price_periods"), {"period_start_at": start, "period_end_at": end}
    ).all()
    covered_until = start
    for period in periods:
        if period.effective_from > covered_until:
            break
        covered_until = period.effective_until or end
    if not periods or covered_until < end:
        raise BillingError(
            f"the price book does not cover {start:%Y-%m} from {covered_until.isoformat()}: "
            "add a price list before billing this month"
        )
    return periods


# the temporary tables stage_sums leaves
SUMS_TABLES = ("machine_sums", "volume_sums", "period_price_book", "period_runtime_rates")


def stage_sums(connection: Connection, start: datetime, end: datetime, org_ids: Sequence[int],
               *, grain: str, hours: list[tuple[int, datetime]] | None = None) -> dict:
    """Sum the hourly usage of [start, end) for ``org_ids`` per resource, size, price list and
    ``grain`` ('month', 'day' or 'hour') into the temporary SUMS_TABLES, with the rates in force.

    At grain 'hour' only the (org_id, hour_at) pairs ``hours`` are read, summed per UTC day.
    Returns the statement parameters that RESOURCE_PRODUCTS_CTES reads. Staging again in the
    same transaction replaces the tables.
    """
    if grain not in _SUMS_PASSES:
        raise ValueError(f"grain must be 'month', 'day' or 'hour', got {grain!r}")
    if (grain == "hour") != (hours is not None):
        raise ValueError("the hours to read are given at grain 'hour', and only then")
    temporary.drop(connection, *SUMS_TABLES)
    periods = _price_periods(connection, start, end)
    conversions: dict[str, Decimal] = dict(
        connection.execute(statements.sql("pricing_conversions")).all())
    params = {
        "period_start_at": start, "period_end_at": end, "org_ids": org_ids,
        "price_list_ids": [period.price_list_id for period in periods],
        "rootfs_conversion": conversions["stopped_rootfs"],
        "ipv4_conversion": conversions["dedicated_ipv4"],
        "volume_conversion": conversions["volume"],
        "hour_org_ids": [org_id for org_id, _ in hours or ()],
        "hour_ats": [hour_at for _, hour_at in hours or ()],
    }
    # The passes over hourly rows aggregate to one row per machine (or volume), size, price
    # list and grain. Without the statistics of migration 0022 (or at day grain) the planner
    # multiplies the columns' distinct counts and expects far more groups, so it would sort
    # millions of rows; hashing in memory, in parallel, is right. JIT compilation costs
    # seconds here and saves less.
    db.set_local(connection, {"work_mem": "256MB", "jit": "off"})
    # (a few hours are found through the primary key: sql/machine_sums_from_hours.sql)
    hash_only = _HASH_AGGREGATE_ONLY if grain != "hour" else ()
    with db.local_settings(connection, dict.fromkeys(hash_only, "off")):
        for period_no, period in enumerate(periods, start=1):
            # the price list's hours within [start, end), its prices of the products rated
            # per row
            price_list = {**params, "period_no": period_no,
                          "from_at": max(start, period.effective_from),
                          "until_at": min(end, period.effective_until or end),
                          "rootfs_price": period.stopped_rootfs,
                          "ipv4_price": period.dedicated_ipv4, "volume_price": period.volume}
            for table, *files in _SUMS_PASSES[grain]:
                creates, adds = _SUMS_HEADS[table]
                head = creates if period_no == 1 else adds
                connection.execute(statements.sql(head, table, *files), price_list)
    # the small rate views, computed once for the period's price lists
    connection.execute(statements.sql("stage_period_price_book"), params)
    connection.execute(statements.sql("stage_period_runtime_rates"), params)
    temporary.analyze(connection, *SUMS_TABLES)
    return params


def price_sums(connection: Connection, statement: TextClause, params: dict) -> None:
    """Run ``statement``, which prices the staged sums through RESOURCE_PRODUCTS_CTES.

    Every input is a small table, so hash joins are right; the planner multiplies the
    selectivities of the three keys the rates join on, expects a handful of rows and would
    loop over the rates for every sum (measured: 0.3 s -> 4.7 s for ten days of the large seed).
    """
    with db.local_settings(connection, {"enable_nestloop": "off"}):
        connection.execute(statement, params)


def stage_month(connection: Connection, period_start: date, org_ids: list[int]) -> None:
    """Rate the month for ``org_ids`` into rated_resources, rated_lines, rated_allocations.

    The tables are temporary and dropped at commit; staging twice in one transaction replaces
    them.
    """
    start, end = month_bounds(period_start)
    temporary.drop(connection, "rated_allocations", "rated_lines", "rated_resources")
    params = stage_sums(connection, start, end, org_ids, grain="month")
    rated_resources = statements.sql(
        "create_rated_resources", "resource_products", "rated_resources")
    # The planner expects a handful of priced sums (it multiplies the rates' join
    # selectivities), so it sorts them on the fourteen columns of a line and resource to group
    # them; hashing is right for the hundreds of thousands there are (at ten times the large
    # scale, load 12: 11 s of the statement's 17 s went to that sort).
    with db.local_settings(connection, {"enable_sort": "off"}):
        price_sums(connection, rated_resources, {**params, "product_order": PRODUCT_ORDER})
    connection.execute(statements.sql("rated_lines"))
    connection.execute(statements.sql("allocate_largest_remainder"))
    temporary.analyze(connection, "rated_resources", "rated_lines", "rated_allocations")
