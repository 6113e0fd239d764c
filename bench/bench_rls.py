"""What row-level security costs a page query: the app's role under a scope against the owner.

    uv run python bench/bench_rls.py [--scale demo|small|large] [--repeats 30]

The database is BENCH_DATABASE_URL's server (a fresh database is migrated and seeded there at
``--scale``), or else a throw-away embedded server. Each query runs ``--repeats`` times in a
read-only REPEATABLE READ snapshot, exactly as pages read, twice over:

- baseline: the schema owner (a superuser, so no policy is applied), no scope;
- measured: ``fleetspend_app`` with the biggest organization's admin as the scope, so every
  tenant table's policy runs (its scope function once per statement, as an InitPlan).

Printed: p50 of each, the ratio of the medians, and whether both returned the same rows (the
admin sees the whole organization, so they must). The load average is printed too: on a
shared 2-core machine the figures mean most when nothing else runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
import uuid
from datetime import date

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fleetspend import db, embedded, rollups, schema
from fleetspend.embedded import EmbeddedPostgres
from fleetspend.seed import generate
from queries import sql

# (query, parameters beyond org_id) for questions pages ask of one organization
CASES = [
    ("spend_by_period", {"start_date": date(2026, 9, 1), "end_date": date(2026, 11, 26),
                         "grain": "day"}),
    ("spend_by_dimensions", {"start_date": date(2026, 9, 1), "end_date": date(2026, 11, 26),
                             "whole_from": date(2026, 9, 1), "whole_until": date(2026, 11, 1),
                             "dimension_1": "region", "dimension_2": "preset",
                             "daily_source": "region_size", "row_limit": None}),
    ("spend_month_to_date", {"as_of_date": date(2026, 11, 25)}),
]


def _maintenance(base: str, statement: str) -> None:
    url = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def _database(scale: str) -> tuple[str, str, EmbeddedPostgres | None]:
    """A fresh database seeded at ``scale``: (its URL, the maintenance URL, any server)."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    server = None
    if configured:
        base = configured
    else:
        server = embedded.temporary_server()
        server.start()
        base = server.url()
    name = f"fleetspend_bench_rls_{uuid.uuid4().hex[:8]}"
    _maintenance(base, f'create database "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    owner = db.make_engine(url)
    schema.upgrade(owner)
    generate(owner, scale=scale, seed=1)
    rollups.refresh(owner)
    owner.dispose()
    return url, base, server


def _biggest_org_admin(url: str) -> tuple[int, int]:
    engine = db.make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text("""
            select machines.org_id, memberships.user_id
            from machines
            join memberships on memberships.org_id = machines.org_id
                and memberships.role = 'admin'
            group by 1, 2 order by count(*) desc limit 1
        """)).one()
    engine.dispose()
    return row.org_id, row.user_id


def _time(pool: db.ReadPool, scope: db.Scope | None, name: str, params: dict,
          repeats: int) -> tuple[list[float], list]:
    timings, rows = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        with pool.snapshot(scope) as snapshot:
            rows = snapshot.connection.execute(sql(name), params).all()
        timings.append((time.perf_counter() - start) * 1000)
    return timings, sorted(map(repr, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="demo", choices=["small", "demo", "large"])
    parser.add_argument("--repeats", type=int, default=30)
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    url, base, server = _database(arguments.scale)
    try:
        org_id, admin_id = _biggest_org_admin(url)
        owner_pool = db.ReadPool([url], pool_size=1)
        app_pool = db.ReadPool([db.as_app_role(url)], pool_size=1)
        scope = db.Scope(org_ids=(org_id,), user_id=admin_id)
        print(f"scale {arguments.scale}, org {org_id}, {arguments.repeats} runs each")
        print(f"{'query':32} {'owner p50 ms':>13} {'app+RLS p50 ms':>15} {'ratio':>6}  same rows")
        for name, extra in CASES:
            params = {"org_id": org_id, **extra}
            _time(owner_pool, None, name, params, 2)  # warm both caches
            _time(app_pool, scope, name, params, 2)
            owner_ms, owner_rows = _time(owner_pool, None, name, params, arguments.repeats)
            app_ms, app_rows = _time(app_pool, scope, name, params, arguments.repeats)
            baseline, measured = statistics.median(owner_ms), statistics.median(app_ms)
            print(f"{name:32} {baseline:13.2f} {measured:15.2f} {measured / baseline:6.2f}  "
                  f"{owner_rows == app_rows}")
        owner_pool.dispose()
        app_pool.dispose()
    finally:
        _maintenance(base, f'drop database if exists "{make_url(url).database}" with (force)')
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
