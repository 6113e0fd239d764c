"""Benchmark: drafting one month's invoice for the 10,000-machine organization.

    uv run python bench/bench_invoice.py [--month 2026-10] [--org northwind] [--repeats 3]
                                         [--baseline-repeats 2] [--target-seconds 15]

The database is BENCH_DATABASE_URL (already migrated and seeded at the large scale), or else a
throw-away embedded server that this script migrates and seeds with
``fleetspend.seed.generate(scale='large')``, which takes several minutes.

Printed, all measured in this run:

1. the draft: ``draft_in`` (rating, lines, largest-remainder allocation, writing the invoice)
   for one organization and month, each repeat in its own transaction that is rolled back, so
   the database is left as found; the median and every run;
2. the baseline: the same rating done in pandas on the fetched hourly rows (fetch, price list
   by hour, sums per machine, size and price list, prices from the price book, lines and
   largest-remainder allocation in Python, Decimal money); its median, and whether its
   subtotal in cents equals the draft's (the baseline divides summed GB-month quantities
   once where the view rounds each hour to 18 decimals, which cannot move a cent in practice);
3. the ratio of the medians, and verification (re-rating compared with the stored draft).

Target (issue 3): the draft under 15 s on this machine. At xlarge (issue 16: 100,000 machines,
raw usage from ``bench/build_xlarge.py --raw-month 2026-11``): under 60 s, with
``--month 2026-11 --baseline-repeats 0 --target-seconds 60``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, Engine, text
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, schema
from fleetspend.billing.invoices import draft_in
from fleetspend.billing.rating import month_bounds, parse_month
from fleetspend.billing.verify import verify_month
from fleetspend.money import largest_remainder

# psycopg binds the %s values of a COPY on the client side; quantities with six decimals are
# fetched as whole millionths so pandas sums them exactly as integers
ROWS_SQL = """
copy (
    select machine_usage.machine_id, machine_usage.hour_at, machine_usage.preset_code,
           machine_usage.memory_mb, machine_usage.runtime_seconds,
           machine_usage.dedicated_ipv4_seconds,
           cast(machine_usage.stopped_rootfs_gb_seconds * 1000000 as bigint),
           cast(machine_usage.egress_internet_gb * 1000000 as bigint),
           cast(machine_usage.egress_private_gb * 1000000 as bigint)
    from machine_usage
    where machine_usage.org_id = %s and machine_usage.hour_at >= %s and machine_usage.hour_at < %s
) to stdout with (format csv)
"""

VOLUME_ROWS_SQL = """
copy (
    select volume_usage.volume_id, volume_usage.hour_at,
           cast(volume_usage.gb_hours * 1000000 as bigint)
    from volume_usage
    where volume_usage.org_id = %s and volume_usage.hour_at >= %s and volume_usage.hour_at < %s
) to stdout with (format csv)
"""


def _engine() -> tuple[Engine, embedded.EmbeddedPostgres | None]:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return db.make_engine(url, poolclass=NullPool), None
    from fleetspend.seed import generate

    server = embedded.temporary_server()
    server.start()
    server.create_database("bench")
    engine = db.make_engine(server.url("bench"), poolclass=NullPool)
    schema.upgrade(engine)
    print("seeding the large scale (several minutes) ...", flush=True)
    generate(engine, scale="large", seed=1, bill=False)  # months left open to draft
    return engine, server


def _timed_draft(engine: Engine, month: date, org_id: int) -> tuple[float, int]:
    """Seconds to draft the month for one org, in a transaction that is rolled back."""
    with engine.connect() as connection, connection.begin() as transaction:
        started = time.perf_counter()
        run = draft_in(connection, month, [org_id], always_org_ids=[org_id])
        elapsed = time.perf_counter() - started
        if run.already_sealed:
            raise SystemExit(f"{run.already_sealed[0]} is finalized: pick a month still open")
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where org_id = :org_id "
            "and period_start_date = :month"), {"org_id": org_id, "month": month}).scalar_one()
        transaction.rollback()
    return elapsed, subtotal


def _price_book(connection: Connection, month: date) -> dict:
    """Everything the baseline prices with, read once (small tables)."""
    start, end = month_bounds(month)
    lists = connection.execute(text(
        "select price_list_id, effective_from, effective_until from price_lists "
        "where effective_from < :end and (effective_until is null or effective_until > :start) "
        "order by effective_from"), {"start": start, "end": end}).all()
    prices = {(row.price_list_id, row.component, row.egress_group): row.unit_price
              for row in connection.execute(text(
                  "select price_list_id, component, egress_group, unit_price from prices"))}
    regions = {row.region_code: row for row in connection.execute(text(
        "select region_code, price_markup, egress_group from regions"))}
    presets = {row.preset_code: row for row in connection.execute(text(
        "select presets.preset_code, presets.cpu_kind, presets.cpus, "
        "cpu_kinds.included_memory_mb_per_cpu from presets join cpu_kinds using (cpu_kind)"))}
    return {"lists": lists, "prices": prices, "regions": regions, "presets": presets}


def _fetch(connection: Connection, statement: str, params: tuple,
           names: list[str]) -> pd.DataFrame:
    """The rows of a COPY ... TO STDOUT (CSV) as a DataFrame."""
    buffer = io.BytesIO()
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(statement, params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return pd.read_csv(buffer, header=None, names=names, parse_dates=["hour_at"])


def _baseline(engine: Engine, month: date, org_id: int) -> tuple[float, int]:
    """Seconds to rate the month in pandas from the fetched hourly rows; the subtotal."""
    start, end = month_bounds(month)
    started = time.perf_counter()
    with engine.connect() as connection:
        book = _price_book(connection, month)
        machines = pd.DataFrame(connection.execute(text(
            "select machine_id, region_code from machines where org_id = :org_id"),
            {"org_id": org_id}).all(), columns=["machine_id", "region_code"])
        volumes = pd.DataFrame(connection.execute(text(
            "select volume_id, region_code from volumes where org_id = :org_id"),
            {"org_id": org_id}).all(), columns=["volume_id", "region_code"])
        rows = _fetch(connection, ROWS_SQL, (org_id, start, end), [
            "machine_id", "hour_at", "preset_code", "memory_mb", "runtime_seconds",
            "ipv4_seconds", "rootfs_ugbs", "egress_internet_ugb", "egress_private_ugb"])
        volume_rows = _fetch(connection, VOLUME_ROWS_SQL, (org_id, start, end),
                             ["volume_id", "hour_at", "gb_hours_u"])
    starts = pd.to_datetime([row.effective_from for row in book["lists"]], utc=True)
    list_ids = [row.price_list_id for row in book["lists"]]
    for frame in (rows, volume_rows):
        frame["price_list_id"] = [
            list_ids[i] for i in starts.searchsorted(frame["hour_at"], side="right") - 1]
    sums = (rows.groupby(["machine_id", "preset_code", "memory_mb", "price_list_id"])
            [["runtime_seconds", "ipv4_seconds", "rootfs_ugbs", "egress_internet_ugb",
              "egress_private_ugb"]]
            .sum().reset_index().merge(machines, on="machine_id"))
    volume_sums = (volume_rows.groupby(["volume_id", "price_list_id"])[["gb_hours_u"]].sum()
                   .reset_index().merge(volumes, on="volume_id"))

    # price the sums exactly, with Decimal, per machine; then lines and allocations
    per_line: dict[tuple, list[tuple[str, Decimal]]] = defaultdict(list)
    micro = Decimal("0.000001")
    for row in sums.itertuples(index=False):
        region = book["regions"][row.region_code]
        preset = book["presets"][row.preset_code]
        vcpu = book["prices"][row.price_list_id, f"vcpu_{preset.cpu_kind}", "any"]
        ram = book["prices"][row.price_list_id, "ram_extra", "any"]
        extra_quarters = max(0, (row.memory_mb - preset.cpus
                                 * preset.included_memory_mb_per_cpu) // 256)
        runtime = (preset.cpus * vcpu + extra_quarters * Decimal("0.25") * ram) \
            * region.price_markup
        meters = [
            (("machine_runtime", row.preset_code, row.memory_mb),
             Decimal(int(row.runtime_seconds)) * runtime),
            (("dedicated_ipv4",), Decimal(int(row.ipv4_seconds))
             * book["prices"][row.price_list_id, "dedicated_ipv4", "any"] / 2592000),
            (("stopped_rootfs",), Decimal(int(row.rootfs_ugbs)) * micro
             * book["prices"][row.price_list_id, "stopped_rootfs", "any"] / 2592000),
            (("egress_internet",), Decimal(int(row.egress_internet_ugb)) * micro
             * book["prices"][row.price_list_id, "egress_internet", region.egress_group]),
            (("egress_private",), Decimal(int(row.egress_private_ugb)) * micro
             * book["prices"][row.price_list_id, "egress_private", region.egress_group]),
        ]
        for product_key, amount in meters:
            if amount:
                per_line[(*product_key, row.region_code, row.price_list_id)].append(
                    (row.machine_id, amount))
    for row in volume_sums.itertuples(index=False):
        amount = (Decimal(int(row.gb_hours_u)) * micro
                  * book["prices"][row.price_list_id, "volume", "any"] / 720)
        if amount:
            per_line[("volume", row.region_code, row.price_list_id)].append(
                (row.volume_id, amount))
    subtotal = 0
    for resources in per_line.values():
        resources.sort()
        line_cents = int((sum(a for _, a in resources) * 100).quantize(Decimal(1), "ROUND_HALF_UP"))
        largest_remainder(line_cents, [amount for _, amount in resources])
        subtotal += line_cents
    return time.perf_counter() - started, subtotal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--org", default="northwind")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-repeats", type=int, default=2,
                        help="0 skips the baseline (at xlarge it would hold 50 million rows)")
    parser.add_argument("--target-seconds", type=float, default=15,
                        help="15 at large (issue 3), 60 at xlarge (issue 16)")
    arguments = parser.parse_args()
    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    month = parse_month(arguments.month)
    engine, server = _engine()
    try:
        with engine.connect() as connection:
            org_id, machines, rows = connection.execute(text(
                "select org_id, (select count(*) from machines where org_id = o.org_id), "
                "(select count(*) from machine_usage where org_id = o.org_id "
                " and hour_at >= :start and hour_at < :end) "
                "from organizations o where slug = :slug"),
                {"slug": arguments.org, "start": month_bounds(month)[0],
                 "end": month_bounds(month)[1]}).one()
        print(f"{arguments.org}: {machines:,} machines, {rows:,} hourly usage rows in "
              f"{arguments.month}")

        drafts = [_timed_draft(engine, month, org_id) for _ in range(arguments.repeats)]
        draft_seconds = [seconds for seconds, _ in drafts]
        print(f"draft (SQL, set-based): median {statistics.median(draft_seconds):.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in draft_seconds)}), "
              f"subtotal {drafts[0][1]:,} cents")

        baselines = [_baseline(engine, month, org_id)
                     for _ in range(arguments.baseline_repeats)]
        baseline_seconds = [seconds for seconds, _ in baselines]
        if baselines:
            print(f"baseline (fetch + pandas): median {statistics.median(baseline_seconds):.2f}"
                  f" s (runs: {', '.join(f'{s:.2f}' for s in baseline_seconds)}), "
                  f"subtotal {baselines[0][1]:,} cents "
                  f"({'equal to' if baselines[0][1] == drafts[0][1] else 'DIFFERENT from'} "
                  "the draft's)")
            print(f"ratio baseline / draft: "
                  f"{statistics.median(baseline_seconds) / statistics.median(draft_seconds):.1f}x")
        target = arguments.target_seconds
        print(f"target: draft < {target:.0f} s -> "
              f"{'met' if statistics.median(draft_seconds) < target else 'NOT met'}")

        started = time.perf_counter()
        differences = verify_month(engine, month, arguments.org)
        print(f"verify (re-rate and compare with the stored invoice, if any): "
              f"{time.perf_counter() - started:.2f} s, {len(differences)} difference(s)")
        print("load average (1, 5, 15 min) at end: "
              + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    finally:
        engine.dispose()
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
