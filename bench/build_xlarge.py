"""Build the xlarge scale at rollup level from a large one, and time its write path.

    uv run python bench/build_xlarge.py SOURCE_DB TARGET_DB [--copies 10] [--raw-month 2026-11]
                                        [--write-path [--repeats 1]] [--skip-build]

SOURCE_DB is a database on BENCH_DATABASE_URL's server seeded at the large scale (northwind:
420 apps, 10,000 machines, 90 days; nothing may be connected to it while it is copied).
TARGET_DB is created as a copy of it (dropped first if it exists), then northwind is made ten
times bigger where the pages read: every app gets nine copies (4,200 apps, each copy spending
what its original does), and so does every machine (100,000), and every rollup row the pages
read is copied under the copied apps (daily and monthly, meters, the narrow rollups, the
anomaly series) or multiplied (the per-org, per-region and per-team rows, which have no app;
the copies keep their originals' teams), and the anomaly search is run again over the copies
(its findings stored as a fold stores them). Raw usage
is not copied: generating 10x the hourly rows (190 million) would take hours here. So reads
at xlarge are measured at rollup level (bench/bench_page_views.py with BENCH_DATABASE_URL
pointing at TARGET_DB, the invoice pages still at the large scale's invoices), and the
per-resource rollups hold the copies for the last day only (what folding a new hour reads).

With --raw-month, one month of raw usage is generated for the copies after all: every copied
machine gets its original's hourly rows of that month (inserted into machine_usage, for
November 2026 of the large seed 44.6 million rows, 49.5 million in all for 100,000 machines),
and the per-resource daily rollups of the month are copied to match, so the write path and the
draft (bench/bench_invoice.py --month 2026-11 on TARGET_DB) read real rows at xlarge. It takes
about half an hour here and about 10 GB of disk.

With --write-path, the write path at xlarge from real rows: one new hour of usage for every
live machine (100,000 rows inserted into machine_usage) folded into the rollups, then
withdrawn again (a correction), each timed, beside the same hour for the large scale's
10,000 machines alone, measured in the same run. Target (issue 16): under 5 s.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fleetspend import bulk, db, rollups
from fleetspend.billing.rating import month_bounds, parse_month
from fleetspend.partitions import ensure_month_partitions

ORG = "northwind"
APP_STEP = 1_000_000  # copy k of app a is app a + k * APP_STEP
# a copy's machine (or volume) id: 14 hex digits, as machine ids are, hashed from the original's
COPIED_ID = "substr(md5({column} || '/' || copy.k), 1, 14)"
APP_TABLES = ("rollup_usage_daily", "rollup_usage_monthly", "rollup_app_region_daily",
              "rollup_app_region_monthly", "rollup_app_region_size_daily",
              "rollup_app_region_size_monthly", "rollup_app_region_series")
# tables without an app: their measures (and counts) grow with the copies
SCALED = {
    "rollup_org_daily": ("consumed_quantity", "pricing_quantity", "amount_precise",
                         "resources"),
    "rollup_region_size_daily": ("consumed_quantity", "amount_precise"),
    "rollup_region_size_monthly": ("consumed_quantity", "amount_precise"),
    # the copies belong to their originals' teams
    **{table: ("runtime_seconds", "runtime_amount_precise", "amount_precise")
       for table in ("rollup_team_region_size_daily", "rollup_team_region_size_monthly",
                     "rollup_team_region_daily", "rollup_team_region_monthly",
                     "rollup_team_daily", "rollup_team_monthly")},
}


def _columns(connection, table: str) -> list[str]:
    return list(connection.execute(text(
        "select column_name from information_schema.columns where table_name = :table "
        "order by ordinal_position"), {"table": table}).scalars())


def _copy_rows(connection, table: str, org_id: int, copies: int, changes: dict[str, str],
               where: str = "true") -> int:
    """Insert ``copies - 1`` copies of the org's rows of ``table`` with ``changes`` applied
    (column -> expression of the row and of ``copy.k``)."""
    columns = _columns(connection, table)
    chosen = ", ".join(changes.get(column, f"original.{column}") for column in columns)
    return connection.execute(text(
        f"insert into {table} ({', '.join(columns)}) "  # noqa: S608 - this script's constants
        f"select {chosen} from {table} as original "
        f"cross join generate_series(1, :copies - 1) as copy (k) "
        f"where original.org_id = :org_id and {where}"),
        {"org_id": org_id, "copies": copies}).rowcount


def build(server_url: str, source: str, target: str, copies: int) -> str:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    started = time.perf_counter()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(target)))
        connection.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(target), sql.Identifier(source)))
    print(f"copied {source} to {target} in {time.perf_counter() - started:.0f} s", flush=True)
    url = make_url(server_url).set(database=target).render_as_string(hide_password=False)
    engine = db.make_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    with engine.begin() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": ORG}).scalar_one()
        app = f"original.app_id + copy.k * {APP_STEP}"
        counts = {"apps": _copy_rows(connection, "apps", org_id, copies, {
            "app_id": app, "name": "original.name || ' ' || (copy.k + 1)"})}
        counts["machines"] = _copy_rows(connection, "machines", org_id, copies, {
            "app_id": app, "machine_id": COPIED_ID.format(column="original.machine_id")})
        for table in APP_TABLES:
            counts[table] = _copy_rows(connection, table, org_id, copies, {"app_id": app})
        last_day = connection.execute(text(
            "select max(usage_date) from rollup_resource_daily where org_id = :org_id"),
            {"org_id": org_id}).scalar_one()
        counts["rollup_resource_daily (last day)"] = _copy_rows(
            connection, "rollup_resource_daily", org_id, copies,
            {"app_id": app, "resource_id": COPIED_ID.format(column="original.resource_id")},
            where=f"original.usage_date = '{last_day.isoformat()}'")
        for table, measures in SCALED.items():
            assignments = ", ".join(f"{measure} = {measure} * :copies" for measure in measures)
            connection.execute(text(
                f"update {table} set {assignments} where org_id = :org_id"),  # noqa: S608
                {"org_id": org_id, "copies": copies})
        # the anomaly search over the copies' series, stored as a fold stores it
        connection.execute(text("delete from rollup_anomaly_findings where org_id = :org_id"),
                           {"org_id": org_id})
        rollups.store_anomalies(connection, [org_id])
    # vacuumed as well as analyzed: with autovacuum off (as on this project's server) the
    # copied rows' pages are not marked all-visible, and every index-only scan of the pages'
    # reads would visit the heap, which a served database's autovacuum would have spared it
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("apps", "machines", *APP_TABLES, *SCALED, "rollup_resource_daily",
                      "rollup_anomaly_findings"):
            connection.exec_driver_sql(f"vacuum analyze {table}")
    engine.dispose()
    print(f"{ORG} made {copies}x bigger at rollup level in {time.perf_counter() - started:.0f} s:")
    for table, rows in counts.items():
        print(f"  {table}: +{rows:,} rows")
    return url


# the original's hourly rows of [:start_at, :end_at) under the machine's copy ``:k``
COPY_MONTH = text(f"""
    insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb,
                               runtime_seconds, stopped_rootfs_gb_seconds, egress_internet_gb,
                               egress_private_gb, dedicated_ipv4_seconds)
    select original.org_id, {COPIED_ID.format(column="original.machine_id")},
           original.hour_at, original.preset_code, original.memory_mb,
           original.runtime_seconds, original.stopped_rootfs_gb_seconds,
           original.egress_internet_gb, original.egress_private_gb,
           original.dedicated_ipv4_seconds
    from machine_usage as original
    cross join (select cast(:k as integer) as k) as copy
    join machines
      on machines.org_id = original.org_id
     and machines.machine_id = original.machine_id
    where original.org_id = :org_id
      and machines.app_id < {APP_STEP}  -- originals only
      and original.hour_at >= :start_at and original.hour_at < :end_at
""")  # noqa: S608 - this script's constants only


def raw_month(url: str, month: date, copies: int) -> None:
    """Give every copied machine its original's hourly rows of ``month``, and the copies'
    per-resource rollups of the month to match (the coarser rollups hold them already)."""
    start_at, end_at = month_bounds(month)
    engine = db.make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": ORG}).scalar_one()
        last_day = connection.execute(text(
            "select max(usage_date) from rollup_resource_daily where org_id = :org_id"),
            {"org_id": org_id}).scalar_one()
        # the rollups hold these rows already: no notes for the fold; the foreign keys are
        # checked once, after the rows are in
        set_aside = bulk.set_aside(connection, foreign_keys=["machine_usage"],
                                   transition_triggers=["machine_usage"])
        rows = 0
        for k in range(1, copies):
            started = time.perf_counter()
            rows += connection.execute(COPY_MONTH, {"k": k, "org_id": org_id,
                                                    "start_at": start_at,
                                                    "end_at": end_at}).rowcount
            print(f"  copy {k}: {rows:,} rows so far ({time.perf_counter() - started:.0f} s)",
                  flush=True)
        app = f"original.app_id + copy.k * {APP_STEP}"
        resource = {"app_id": app,
                    "resource_id": COPIED_ID.format(column="original.resource_id")}
        daily = _copy_rows(connection, "rollup_resource_daily", org_id, copies, resource,
                           where=f"original.usage_date >= '{month.isoformat()}' "
                                 f"and original.usage_date < '{last_day.isoformat()}' "
                                 "and original.resource_kind = 'machine'")
        bulk.add_back(connection, set_aside, analyze=["rollup_resource_daily"])
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("vacuum analyze machine_usage")
    engine.dispose()
    print(f"raw usage of {month:%Y-%m} for the copies: +{rows:,} machine_usage rows, "
          f"+{daily:,} rollup_resource_daily rows")


ADD_HOUR = text("""
    insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb,
                               runtime_seconds, egress_internet_gb)
    select machines.org_id, machines.machine_id, :hour_at, machines.preset_code,
           machines.memory_mb, 3600, 0.125
    from machines
    where machines.org_id = :org_id and machines.destroyed_at is null
      and (:every or machines.app_id < :app_step)
""")


def write_path(url: str, repeats: int) -> None:
    engine = db.make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        org_id, last_hour_at = connection.execute(text(
            "select org_id, (select max(hour_at) from machine_usage "
            "where machine_usage.org_id = organizations.org_id) "
            "from organizations where slug = :slug"), {"slug": ORG}).one()
    rollups.refresh(engine)
    for label, every in (("large: 10,000 machines", False), ("xlarge: 100,000 machines", True)):
        hour_at = last_hour_at + timedelta(hours=1)
        folds = []
        for _ in range(repeats):
            with engine.begin() as connection:
                ensure_month_partitions(connection, hour_at, hour_at + timedelta(hours=1))
                started = time.perf_counter()
                rows = connection.execute(ADD_HOUR, {
                    "org_id": org_id, "hour_at": hour_at, "every": every,
                    "app_step": APP_STEP}).rowcount
            inserted = time.perf_counter() - started
            started = time.perf_counter()
            result = rollups.refresh(engine)
            folds.append(time.perf_counter() - started)
            with engine.begin() as connection:
                connection.execute(text(
                    "delete from machine_usage where org_id = :org_id and hour_at = :hour_at"),
                    {"org_id": org_id, "hour_at": hour_at})
            started = time.perf_counter()
            rollups.refresh(engine)
            withdrawn = time.perf_counter() - started
            print(f"  {label}: one hour, {rows:,} rows: insert {inserted:.2f} s, fold "
                  f"{folds[-1]:.2f} s ({result.hours} org-hours added on, {result.days} org-days "
                  f"recomputed); withdrawn again: fold {withdrawn:.2f} s; load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
        ranked = sorted(folds)
        p95 = ranked[math.ceil(0.95 * len(ranked)) - 1]
        mark = "" if p95 < 5 else " *"
        print(f"  {label}: fold median {statistics.median(folds):.2f} s, p95 {p95:.2f} s "
              f"over {repeats}{mark}", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--raw-month", type=parse_month, metavar="YYYY-MM",
                        help="generate the copies' raw usage of this month")
    parser.add_argument("--write-path", action="store_true")
    parser.add_argument("--repeats", type=int, default=1, help="write path rounds per scale")
    parser.add_argument("--skip-build", action="store_true", help="TARGET_DB exists already")
    options = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL")
    if not server_url:
        raise SystemExit("set BENCH_DATABASE_URL to the server (any database on it)")
    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    if options.skip_build:
        url = make_url(server_url).set(database=options.target).render_as_string(
            hide_password=False)
    else:
        url = build(server_url, options.source, options.target, options.copies)
    if options.raw_month:
        raw_month(url, options.raw_month, options.copies)
    if options.write_path:
        print("write path (target: one hour of 100,000 machines folded in under 5 s):")
        write_path(url, options.repeats)
    print("load average (1, 5, 15 min) at end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
