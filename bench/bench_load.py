"""Load benchmark: the seed at a scale (default large) into a fresh database, COPY vs INSERT.

    uv run python bench/bench_load.py [--scale large|demo|small] [--seed N] [--sample ROWS]

Uses BENCH_DATABASE_URL (a server's maintenance database URL) if set, else a throw-away
embedded PostgreSQL configured as the app's own default server (durable: fsync, synchronous
commit and full-page writes on). Prints the time of every phase of the seed and its rows per
second, then, in the same database and run, a baseline: a sample of the same machine_usage
rows (the first machines' rows in primary key order) deleted and written back twice inside a
transaction that is rolled back, once with batched INSERTs (psycopg executemany, pipelined)
and once with COPY, both with every constraint and trigger in place.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg import sql
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, schema
from fleetspend.seed import generate
from fleetspend.seed.load import USAGE_COLUMNS

INSERT_BATCH = 1000


def _database(server_url: str, name: str, *, drop: bool = False) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        statement = "drop database if exists {} with (force)" if drop else "create database {}"
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


_STARTED = time.perf_counter()
_last_step: list[str] = []


def _progress(fraction: float, message: str) -> None:
    step = "".join(c for c in message if not c.isdigit() and c != ",").strip()
    if not _last_step or step != _last_step[-1]:  # a new phase: log when it began
        _last_step.append(step)
        print(f"\n  [{time.perf_counter() - _STARTED:7.1f}s] {step}", file=sys.stderr)
    print(f"\r  {100 * fraction:5.1f}%  {message:<60}", end="", file=sys.stderr, flush=True)


def _baseline(engine, sample: int) -> dict[str, float]:
    """Seconds to write back ``sample`` usage rows by batched INSERT and by COPY."""
    columns = sql.SQL(", ").join(map(sql.Identifier, USAGE_COLUMNS))
    insert = sql.SQL("insert into machine_usage ({}) values ({})").format(
        columns, sql.SQL(", ").join([sql.Placeholder()] * len(USAGE_COLUMNS)))
    delete = sql.SQL(
        "delete from machine_usage where (org_id, machine_id) in ("
        "select * from unnest(%s::bigint[], %s::text[])) returning {}").format(columns)
    copy_statement = sql.SQL("copy machine_usage ({}) from stdin").format(columns)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        with raw.transaction(force_rollback=True), raw.cursor() as cursor:
            cursor.execute(
                "with per_machine as (select org_id, machine_id, count(*) as hours "
                "from machine_usage group by org_id, machine_id), "
                "running as (select org_id, machine_id, sum(hours) over "
                "(order by org_id, machine_id) - hours as before from per_machine) "
                "select org_id, machine_id from running where before < %s", (sample,))
            machines = cursor.fetchall()
            org_ids = [org for org, _ in machines]
            machine_ids = [machine for _, machine in machines]
            cursor.execute(delete, (org_ids, machine_ids))
            rows = cursor.fetchall()

            started = time.perf_counter()
            for low in range(0, len(rows), INSERT_BATCH):
                cursor.executemany(insert, rows[low:low + INSERT_BATCH])
            insert_seconds = time.perf_counter() - started

            cursor.execute(delete, (org_ids, machine_ids))
            started = time.perf_counter()
            with cursor.copy(copy_statement) as copy:
                for row in rows:
                    copy.write_row(row)
            copy_seconds = time.perf_counter() - started
    return {"rows": len(rows), "insert": insert_seconds, "copy": copy_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["small", "demo", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=200_000,
                        help="machine_usage rows in the INSERT-vs-COPY baseline")
    arguments = parser.parse_args()

    server = None
    server_url = os.environ.get("BENCH_DATABASE_URL")
    if not server_url:
        # durable, as the app's own embedded server runs (tests' servers trade that for speed)
        server = embedded.temporary_server(
            settings={key: "on" for key in embedded.FAST_UNSAFE_SETTINGS})
        server.start()
        server_url = server.url()
    name = f"fleetspend_bench_{uuid.uuid4().hex[:8]}"
    try:
        url = _database(server_url, name)
        engine = db.make_engine(url, poolclass=NullPool)
        started = time.perf_counter()
        schema.upgrade(engine)
        migrate_seconds = time.perf_counter() - started

        print(f"seeding scale {arguments.scale}, seed {arguments.seed} ...", file=sys.stderr)
        summary = generate(engine, scale=arguments.scale, seed=arguments.seed,
                           progress=_progress)
        print(file=sys.stderr)
        baseline = _baseline(engine, arguments.sample)
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)
        else:
            _database(server_url, name, drop=True)

    usage_rows = summary.rows["machine_usage"]
    usage_seconds = summary.seconds["machine usage"]
    print(f"\nscale {arguments.scale}, seed {arguments.seed}; migrations {migrate_seconds:.1f}s")
    print(f"{'phase':<22}{'seconds':>10}")
    for phase, seconds in summary.seconds.items():
        print(f"{phase:<22}{seconds:>10.1f}")
    print(f"\n{'table':<22}{'rows':>14}")
    for table, count in summary.rows.items():
        print(f"{table:<22}{count:>14,}")
    print(f"{'all tables':<22}{summary.total_rows:>14,}")
    insert_rate = baseline["rows"] / baseline["insert"]
    copy_rate = baseline["rows"] / baseline["copy"]
    seed_rate = usage_rows / usage_seconds
    print("\nmachine_usage rows per second (same run, same database):")
    print(f"  seed load, binary COPY, FKs checked after   {seed_rate:>12,.0f}"
          f"   ({usage_rows:,} rows in {usage_seconds:.1f}s)")
    print(f"  sample, COPY (write_row), all constraints   {copy_rate:>12,.0f}"
          f"   ({baseline['rows']:,} rows in {baseline['copy']:.1f}s)")
    print(f"  sample, batched INSERT (executemany x{INSERT_BATCH})  {insert_rate:>11,.0f}"
          f"   ({baseline['rows']:,} rows in {baseline['insert']:.1f}s)")
    keyed_seconds = usage_seconds + summary.seconds.get("keys", 0.0)
    keyed_rate = usage_rows / keyed_seconds
    print(f"  seed load incl. building keys and checks    {keyed_rate:>12,.0f}"
          f"   (+ keys phase {summary.seconds.get('keys', 0.0):.1f}s, all big tables)")
    print(f"  ratio seed COPY / batched INSERT            {seed_rate / insert_rate:>12.1f}x"
          f"   ({keyed_rate / insert_rate:.1f}x incl. keys)")
    loading = summary.seconds["total"] - summary.seconds.get("rollups", 0.0)
    print(f"\nall tables: {summary.total_rows / loading:,.0f} rows/s over {loading:.1f}s of "
          f"loading; total seed time {summary.seconds['total']:.1f}s including the rollup fold "
          f"(target for large: under 180s)")


if __name__ == "__main__":
    main()
