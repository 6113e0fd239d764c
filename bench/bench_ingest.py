"""Benchmark: `fleetspend ingest` of a generated file, and its write step against row inserts.

    uv run python bench/bench_ingest.py [--machines 200] [--days 30] [--repeats 3]
    uv run python bench/bench_ingest.py --seeded fs_large [--org northwind] [--repeats 5]

Uses BENCH_DATABASE_URL (a server's maintenance database URL) if set, else a throw-away
embedded PostgreSQL. Generates a JSON Lines file: --machines machines of one organization,
each started at 08:00 and stopped at 18:00 every day for --days days, with a usage row for
every hour. Prints, all measured in this run:

1. the whole import (``ingest_file``, committed) into an empty database, rows per second, and
   a second import of the same file (everything unchanged);
2. each step on its own, median of --repeats, each in a transaction rolled back on the
   database left empty by deleting the first import: reading and parsing the file, the checks
   against the database, and the write (COPY into staging tables, set-based upserts, run
   rebuild);
3. the baseline for the write: the same checked rows written row by row, INSERT ... ON
   CONFLICT with psycopg ``executemany`` (pipelined) for machines, events and usage, plus the
   same run rebuild; median of --repeats, rolled back; and the ratio of the medians.

With --seeded DATABASE (a database on that server seeded at the large scale, left as it is:
every import is rolled back), instead: files of hourly usage for --org's 10,000 machines on
the day after the seed's window, true to their stored lifecycle (a machine running at the
window's end runs every hour at its run's size; a stopped one accrues stopped root
filesystem at its size; machines declared in the file and started at midnight make up the
10,000 where fewer are left). Prints, as medians and p95 of --repeats:

4. the import rate of the day (24 hours), the whole import as ``ingest_file`` does it
   (read, check, write, rollups) but rolled back instead of committed, with the usage checked
   against the lifecycle (``fleetspend.ingest.plausibility``) beside the same import with
   those checks replaced by ones that find nothing, alternating, and the checks' cost;
5. one hour of the 10,000 machines imported the same way, checks and rollups included, with
   its steps.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, lifecycle, rollups, schema
from fleetspend.ingest import ingest_file, plausibility
from fleetspend.ingest.checks import Batch, Rows, check_records
from fleetspend.ingest.records import Problem, read_records
from fleetspend.ingest.writing import write_batch
from fleetspend.partitions import ensure_month_partitions
from fleetspend.seed.plan import WINDOW_END
from fleetspend.usage_lock import lock_usage

START = datetime(2026, 9, 1, tzinfo=UTC)
ORG_MACHINES = 10_000


def _database(server_url: str, name: str, drop: bool = False) -> str:
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        statement = "drop database if exists {} with (force)" if drop else "create database {}"
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _write_file(path: Path, machines: int, days: int) -> int:
    lines = 0
    with path.open("w") as stream:
        def put(record: dict) -> None:
            nonlocal lines
            stream.write(json.dumps(record) + "\n")
            lines += 1

        for number in range(machines):
            machine_id = f"{number:014x}"
            common = {"org": "bench", "machine_id": machine_id}
            put({"record": "machine", **common, "app": "web", "region": "iad",
                 "preset": "shared-cpu-1x", "memory_mb": 256, "rootfs_gb": 1,
                 "created_at": START.isoformat()})
            for day in range(days):
                for hour, kind in ((8, "start"), (18, "stop")):
                    at = START + timedelta(days=day, hours=hour)
                    put({"record": "machine_event", **common, "event_at": at.isoformat(),
                         "kind": kind})
            for hour in range(days * 24):
                at = START + timedelta(hours=hour)
                running = 3600 if 8 <= at.hour < 18 else 0
                put({"record": "machine_usage", **common, "hour_at": at.isoformat(),
                     "preset": "shared-cpu-1x", "memory_mb": 256, "runtime_seconds": running,
                     "stopped_rootfs_gb_seconds": str(3600 - running),
                     "egress_internet_gb": "0.012345", "egress_private_gb": "0",
                     "dedicated_ipv4_seconds": 0})
    return lines


def _insert_rows(connection: Connection, table: str, rows: Rows, updated: tuple[str, ...]
                 ) -> None:
    raw = connection.connection.driver_connection
    conflict = (sql.SQL("do update set ({}) = row({})").format(
        sql.SQL(", ").join(map(sql.Identifier, updated)),
        sql.SQL(", ").join(sql.Identifier("excluded", column) for column in updated))
        if updated else sql.SQL("do nothing"))
    statement = sql.SQL("insert into {} ({}) values ({}) on conflict ({}) {}").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, rows.columns)),
        sql.SQL(", ").join([sql.Placeholder()] * len(rows.columns)),
        sql.SQL(", ").join(map(sql.Identifier, rows.key)), conflict)
    with raw.cursor() as cursor:
        cursor.executemany(statement, [tuple(row[column] for column in rows.columns)
                                       for row in rows.rows.values()])


def _row_by_row(connection: Connection, batch: Batch) -> None:
    """The baseline write: the same rows, one INSERT ... ON CONFLICT each."""
    _insert_rows(connection, "machines", batch.machines, ("destroyed_at",))
    _insert_rows(connection, "machine_events", batch.events, ())
    hours = [row["hour_at"] for row in batch.machine_usage.rows.values()]
    ensure_month_partitions(connection, min(hours), max(hours) + timedelta(hours=1))
    _insert_rows(connection, "machine_usage", batch.machine_usage,
                 ("runtime_seconds", "stopped_rootfs_gb_seconds", "egress_internet_gb",
                  "egress_private_gb", "dedicated_ipv4_seconds"))
    lifecycle.rebuild_runs(connection, sorted(batch.machines.rows))


def _timed(engine, step: Callable[[Connection], object], repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        with engine.connect() as connection:
            started = time.perf_counter()
            step(connection)
            seconds.append(time.perf_counter() - started)
            connection.rollback()
    return seconds


# the org's machines alive at the end of the window: their size then, whether they run
_ORG_MACHINES = """
select machines.machine_id, machines.rootfs_gb, running.started_at is not null as is_running,
       coalesce(running.preset_code, last_resize.preset_code, machines.preset_code)
           as preset_code,
       coalesce(running.memory_mb, last_resize.memory_mb, machines.memory_mb) as memory_mb
from machines
join organizations using (org_id)
left join machine_runs as running
  on running.org_id = machines.org_id and running.machine_id = machines.machine_id
 and running.ended_at is null
left join lateral (
    select preset_code, memory_mb from machine_events
    where machine_events.org_id = machines.org_id
      and machine_events.machine_id = machines.machine_id and kind = 'resize'
    order by event_at desc limit 1
) as last_resize on true
where organizations.slug = :slug and machines.destroyed_at is null
order by machines.machine_id
"""


def _write_org_file(path: Path, engine, slug: str, hours: int) -> int:
    """Usage of the org's machines (topped up to 10,000) for ``hours`` hours from the end of
    the seed's window, true to their lifecycle; returns the number of usage rows."""
    with engine.connect() as connection:
        machines = [dict(row) for row in connection.execute(text(_ORG_MACHINES),
                                                            {"slug": slug}).mappings()]
        app = connection.execute(text(
            "select apps.name from apps join organizations using (org_id)"
            " where slug = :slug order by app_id limit 1"), {"slug": slug}).scalar_one()
    rows = 0
    with path.open("w") as stream:
        for number in range(ORG_MACHINES - len(machines)):
            machine_id = f"ffff{number:010x}"
            common = {"org": slug, "machine_id": machine_id}
            stream.write(json.dumps({
                "record": "machine", **common, "app": app, "region": "iad",
                "preset": "shared-cpu-1x", "memory_mb": 256, "rootfs_gb": 1,
                "created_at": WINDOW_END.isoformat()}) + "\n")
            stream.write(json.dumps({"record": "machine_event", **common,
                                     "event_at": WINDOW_END.isoformat(), "kind": "start"}) + "\n")
            machines.append({"machine_id": machine_id, "rootfs_gb": 1, "is_running": True,
                             "preset_code": "shared-cpu-1x", "memory_mb": 256})
        for hour in range(hours):
            hour_at = (WINDOW_END + timedelta(hours=hour)).isoformat()
            for machine in machines:
                runtime = 3600 if machine["is_running"] else 0
                stream.write(json.dumps({
                    "record": "machine_usage", "org": slug, "machine_id": machine["machine_id"],
                    "hour_at": hour_at, "preset": machine["preset_code"],
                    "memory_mb": machine["memory_mb"], "runtime_seconds": runtime,
                    "stopped_rootfs_gb_seconds": str(machine["rootfs_gb"] * (3600 - runtime)),
                    "egress_internet_gb": "0.012345" if runtime else "0",
                    "egress_private_gb": "0", "dedicated_ipv4_seconds": 0}) + "\n")
                rows += 1
    return rows


def _no_problems(*_arguments) -> list[Problem]:
    return []


def _import_rolled_back(engine, path: Path, is_checked: bool) -> dict[str, float]:
    """The steps of ``ingest_file`` on ``path``, timed, in a transaction rolled back; with
    ``is_checked`` False the usage plausibility checks find nothing (the baseline)."""
    checks = (plausibility.machine_usage_problems, plausibility.volume_usage_problems)
    steps: dict[str, float] = {}
    checking = [0.0]

    def timed(check: Callable[..., list[Problem]]) -> Callable[..., list[Problem]]:
        def run(*arguments) -> list[Problem]:
            started = time.perf_counter()
            found = check(*arguments)
            checking[0] += time.perf_counter() - started
            return found
        return run

    if is_checked:
        plausibility.machine_usage_problems, plausibility.volume_usage_problems = map(timed,
                                                                                     checks)
    else:
        plausibility.machine_usage_problems = plausibility.volume_usage_problems = _no_problems
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            problems: list[Problem] = []
            records = read_records(path, problems)
            steps["read and parse"] = time.perf_counter() - started
            lock_usage(connection)  # as ingest_file does: the rollups then add hours on
            batch = check_records(connection, records, problems)
            steps["check records"] = time.perf_counter() - started - sum(steps.values())
            write_batch(connection, batch, problems)
            steps["write (usage checks included)"] = (time.perf_counter() - started
                                                      - sum(steps.values()))
            rollups.refresh_in(connection)
            steps["rollups"] = time.perf_counter() - started - sum(steps.values())
            assert not problems, problems[:3]
            connection.rollback()
    finally:
        plausibility.machine_usage_problems, plausibility.volume_usage_problems = checks
    steps["total"] = sum(steps.values())
    steps["  of which the usage checks"] = checking[0]
    return steps


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _seeded_bench(server_url: str, database: str, slug: str, repeats: int) -> None:
    engine = db.make_engine(make_url(server_url).set(database=database).render_as_string(
        hide_password=False), poolclass=NullPool)
    folder = Path(tempfile.mkdtemp(prefix="fleetspend-bench-"))
    try:
        day, hour = folder / "day.jsonl", folder / "hour.jsonl"
        day_rows = _write_org_file(day, engine, slug, 24)
        hour_rows = _write_org_file(hour, engine, slug, 1)
        print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
        print(f"{slug}, {ORG_MACHINES:,} machines from {WINDOW_END:%Y-%m-%d}: a day is "
              f"{day_rows:,} usage rows, an hour {hour_rows:,}; every import rolled back")
        _import_rolled_back(engine, hour, True)  # warm the caches once
        checked: list[float] = []
        baseline: list[float] = []
        for _ in range(repeats):
            baseline.append(_import_rolled_back(engine, day, False)["total"])
            checked.append(_import_rolled_back(engine, day, True)["total"])

        def show(label: str, seconds: list[float], rows: int) -> None:
            median = statistics.median(seconds)
            print(f"  {label:<38}{median:7.2f} s median, {_p95(seconds):6.2f} s p95  "
                  f"{rows / median:9,.0f} rows/s  "
                  f"({', '.join(f'{value:.2f}' for value in seconds)})")

        print(f"a day of hourly usage (median and p95 of {repeats}):")
        show("without the usage checks (baseline)", baseline, day_rows)
        show("with the usage checks", checked, day_rows)
        cost = statistics.median(checked) / statistics.median(baseline) - 1
        print(f"  the usage checks cost {cost:.0%} of the import (target: under 30%)")

        hours = [_import_rolled_back(engine, hour, True) for _ in range(repeats)]
        print(f"one hour of {hour_rows:,} machines, checks and rollups included "
              f"(median and p95 of {repeats}; target: under 2 s):")
        for step in hours[0]:
            show(step, [steps[step] for steps in hours], hour_rows)
        print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeded", metavar="DATABASE",
                        help="a database seeded at the large scale: time its org's day instead")
    parser.add_argument("--org", default="northwind")
    arguments = parser.parse_args()

    server = None
    server_url = os.environ.get("BENCH_DATABASE_URL")
    if arguments.seeded:
        if not server_url:
            parser.error("--seeded needs BENCH_DATABASE_URL")
        _seeded_bench(server_url, arguments.seeded, arguments.org, arguments.repeats)
        return
    if not server_url:
        server = embedded.temporary_server()
        server.start()
        server_url = server.url()
    name = f"fleetspend_bench_{uuid.uuid4().hex[:8]}"
    folder = Path(tempfile.mkdtemp(prefix="fleetspend-bench-"))
    try:
        engine = db.make_engine(_database(server_url, name), poolclass=NullPool)
        schema.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text(
                "with org as (insert into organizations (slug, name) values ('bench', 'Bench')"
                " returning org_id), team as (insert into teams (org_id, name)"
                " select org_id, 'core' from org returning org_id, team_id)"
                " insert into apps (org_id, team_id, name) select org_id, team_id, 'web'"
                " from team"))
        path = folder / "usage.jsonl"
        lines = _write_file(path, arguments.machines, arguments.days)
        print(f"file: {lines:,} records ({path.stat().st_size / 1e6:.1f} MB), "
              f"{arguments.machines} machines x {arguments.days} days")

        started = time.perf_counter()
        ingest_file(engine, path)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest_file(engine, path)
        second = time.perf_counter() - started
        print(f"import, empty database:   {first:7.2f} s  {lines / first:9,.0f} records/s")
        print(f"import again (unchanged): {second:7.2f} s  "
              f"({sum(o.unchanged for o in again.outcomes.values()):,} unchanged)")

        with engine.begin() as connection:
            for table in ("machine_usage", "machine_events", "machine_runs", "machines"):
                connection.execute(text(f"delete from {table}"))  # noqa: S608 (constant names)

        parse_seconds = []
        for _ in range(arguments.repeats):
            started = time.perf_counter()
            problems: list[Problem] = []
            records = read_records(path, problems)
            parse_seconds.append(time.perf_counter() - started)
        with engine.connect() as connection:
            batch = check_records(connection, records, problems)
        assert not problems, problems[:3]
        check_seconds = _timed(
            engine, lambda connection: check_records(connection, records, []), arguments.repeats)
        write_seconds = _timed(
            engine, lambda connection: write_batch(connection, batch, []), arguments.repeats)
        baseline_seconds = _timed(
            engine, lambda connection: _row_by_row(connection, batch), arguments.repeats)

        def show(label: str, seconds: list[float]) -> None:
            runs = ", ".join(f"{value:.2f}" for value in seconds)
            print(f"{label:<34}{statistics.median(seconds):7.2f} s median  ({runs})")

        print(f"steps (median of {arguments.repeats}):")
        show("  read and parse", parse_seconds)
        show("  check against the database", check_seconds)
        show("  write: COPY + set-based upserts", write_seconds)
        show("  baseline: row-by-row INSERTs", baseline_seconds)
        ratio = statistics.median(baseline_seconds) / statistics.median(write_seconds)
        print(f"write speed-up over the baseline: {ratio:.1f}x")
        engine.dispose()
    finally:
        _database(server_url, name, drop=True)
        shutil.rmtree(folder, ignore_errors=True)
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
