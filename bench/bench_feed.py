"""Benchmark: the usage feed's lag, from a file written to its rows visible to a page read.

    uv run python bench/bench_feed.py [--machines 10000] [--repeats 10] [--interval 1]

Uses BENCH_DATABASE_URL (a server's maintenance database URL) if set, else a throw-away
embedded PostgreSQL. Creates an organization with --machines machines (the organization,
its app and the machines declared and started by a setup file), then, --repeats times, one
hour of usage for every machine (one row each):

- plain: a file of one hour imported with ``ingest_file`` (what ``fleetspend ingest FILE``
  does), timed from call to commit;
- feed: a file of the next hour, the same size, written into the folder a watcher
  (``fleetspend ingest FOLDER --watch --interval``, its own process, started once) watches;
  timed from the start of writing the file to the moment a plain read of
  ``rollup_usage_daily`` (what the pages read) shows the hour.

Prints both per run, their medians and p95, and the load average before and after (the
machine is shared; figures are only comparable within one run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, schema
from fleetspend.ingest import ingest_file

ROOT = Path(__file__).parent.parent
CREATED = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
STARTED = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
POLL_S = 0.02


def _database(server_url: str, name: str, drop: bool = False) -> str:
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        statement = "drop database if exists {} with (force)" if drop else "create database {}"
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _machine_ids(count: int) -> list[str]:
    return [f"{0xbe000000000000 + number:014x}" for number in range(count)]


def _write(path: Path, records: list[dict]) -> None:
    """Write aside, then rename into place, as a producer should."""
    aside = path.with_name(f".{path.name}.part")
    aside.write_text("".join(json.dumps(record) + "\n" for record in records))
    aside.rename(path)


def _setup_records(machines: list[str]) -> list[dict]:
    common = {"org": "feedbench"}
    return ([{"record": "organization", **common, "name": "Feed bench",
              "created_at": _at(CREATED)},
             {"record": "team", **common, "team": "core"},
             {"record": "app", **common, "app": "web", "team": "core"}]
            + [{"record": "machine", **common, "app": "web", "machine_id": machine_id,
              "region": "iad", "preset": "shared-cpu-1x", "memory_mb": 256, "rootfs_gb": 1,
              "created_at": _at(CREATED)} for machine_id in machines]
            + [{"record": "machine_event", **common, "machine_id": machine_id,
                "event_at": _at(STARTED), "kind": "start"} for machine_id in machines])


def _hour_records(machines: list[str], hour_at: datetime) -> list[dict]:
    return [{"record": "machine_usage", "org": "feedbench", "machine_id": machine_id,
             "hour_at": _at(hour_at), "preset": "shared-cpu-1x", "memory_mb": 256,
             "runtime_seconds": 3600, "stopped_rootfs_gb_seconds": "0",
             "egress_internet_gb": "0.012345", "egress_private_gb": "0",
             "dedicated_ipv4_seconds": 0} for machine_id in machines]


def _visible_through(engine: Engine, org_id: int) -> datetime | None:
    with engine.connect() as connection:
        return connection.execute(text(
            "select max(last_hour_at) from rollup_usage_daily where org_id = :org_id"),
            {"org_id": org_id}).scalar_one()


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def _summary(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"{label:<44}median {statistics.median(seconds):6.2f} s   p95 {p95:6.2f} s   "
            f"({', '.join(f'{value:.2f}' for value in seconds)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="the watcher's --interval (seconds)")
    arguments = parser.parse_args()

    server = None
    server_url = os.environ.get("BENCH_DATABASE_URL")
    if not server_url:
        server = embedded.temporary_server()
        server.start()
        server_url = server.url()
    name = f"fleetspend_bench_{uuid.uuid4().hex[:8]}"
    folder = Path(tempfile.mkdtemp(prefix="fleetspend-bench-feed-"))
    inbox = folder / "inbox"
    inbox.mkdir()
    watcher = None
    try:
        url = _database(server_url, name)
        engine = db.make_engine(url, poolclass=NullPool)
        schema.upgrade(engine)
        machines = _machine_ids(arguments.machines)
        setup = folder / "setup.jsonl"
        _write(setup, _setup_records(machines))
        started = time.perf_counter()
        ingest_file(engine, setup)
        print(f"setup: the organization, and {arguments.machines:,} machines declared and "
              f"started, in {time.perf_counter() - started:.2f} s")
        with engine.connect() as connection:
            org_id = connection.execute(text(
                "select org_id from organizations where slug = 'feedbench'")).scalar_one()

        with (folder / "watcher.log").open("w") as log:
            watcher = subprocess.Popen(
                [sys.executable, "-m", "fleetspend", "ingest", str(inbox), "--watch",
                 "--interval", str(arguments.interval)],
                cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
                stdout=log, stderr=subprocess.STDOUT)
        while " watching " not in (folder / "watcher.log").read_text():  # started up
            time.sleep(POLL_S)
        print(f"load average before: {_loadavg()}")
        plain, lag = [], []
        for repeat in range(arguments.repeats):
            plain_hour = STARTED + timedelta(hours=2 * repeat)
            path = folder / f"plain-{repeat:04d}.jsonl"
            _write(path, _hour_records(machines, plain_hour))
            started = time.perf_counter()
            ingest_file(engine, path)
            plain.append(time.perf_counter() - started)

            feed_hour = plain_hour + timedelta(hours=1)
            started = time.perf_counter()
            _write(inbox / f"usage-{repeat:04d}.jsonl", _hour_records(machines, feed_hour))
            while (_visible_through(engine, org_id) or CREATED) < feed_hour:
                if watcher.poll() is not None:
                    raise SystemExit(f"the watcher ended:\n{(folder / 'watcher.log').read_text()}")
                time.sleep(POLL_S)
            lag.append(time.perf_counter() - started)
            print(f"  run {repeat + 1}: plain ingest {plain[-1]:.2f} s, feed lag {lag[-1]:.2f} s")
        print(f"load average after:  {_loadavg()}")
        print(f"one hour of usage for {arguments.machines:,} machines "
              f"({path.stat().st_size / 1e6:.1f} MB), watcher interval {arguments.interval:g} s:")
        print(_summary("  plain ingest (call to commit)", plain))
        print(_summary("  feed lag (file written to rollup visible)", lag))
        engine.dispose()
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(timeout=60)
        _database(server_url, name, drop=True)
        shutil.rmtree(folder, ignore_errors=True)
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
