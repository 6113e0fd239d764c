"""Benchmark of the read path at the large scale: page queries, rollup folding, concurrency.

    uv run python bench/bench_queries.py [--repeats 30] [--raw-repeats 1] [--raw-cap 30]

The database is BENCH_DATABASE_URL (already migrated and seeded at the large scale: 10,000
machines x 90 days plus five smaller organizations), or else a throw-away embedded server
that this script migrates and seeds with ``fleetspend.seed.generate(scale='large')``, which
takes several minutes. Page reads go through the read pool (REPLICA_URLS when set, else the
same server), one read-only snapshot per page view, exactly as pages do.

Printed, all measured in this run:

1. every page query with realistic parameters, p50 and p95 over ``--repeats`` runs, beside
   the same question answered from raw usage (the ``rated_usage`` view) and the ratio of
   the medians;
2. a load run: ``--threads`` concurrent page views (each several queries in one snapshot),
   p50/p95 per view and the number of errors;
3. the fold of one new hour of usage for every live machine of the biggest organization
   into the rollups (and of withdrawing it again), against recomputing a whole day.

The machine's load average is printed before and after: on a shared 2-core machine the
figures only mean something when nothing else is running.

Targets (issue 4): page query p95 < 50 ms and >= 100x faster than raw for org-wide
questions; the fold < 2 s; 20 concurrent page views p95 < 150 ms with no errors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, rollups, schema
from fleetspend.reads import dimensions, freshness, readmodels, usage_explorer

BIG_ORG = "northwind"
SMALL_ORG = "sabi-pay"

# --- the same questions, answered from raw usage ---------------------------------------------

_RAW_RANGE = """
    rated_usage.org_id = :org_id
    and rated_usage.hour_at >= cast(:start_date as date)::timestamp at time zone 'UTC'
    and rated_usage.hour_at < cast(:end_date as date)::timestamp at time zone 'UTC'
"""

RAW_SPEND_BY_PERIOD = text(f"""
    select cast(date_trunc(:grain, rated_usage.hour_at, 'UTC') as date) as period_start_date,
           sum(rated_usage.amount_precise) as amount_precise
    from rated_usage
    where {_RAW_RANGE}
    group by 1 order by 1
""")  # noqa: S608 - a constant of this script

_RAW_DIMENSION = """
    case cast(:{name} as text)
        when 'app' then cast(rated_usage.app_id as text)
        when 'team' then cast(apps.team_id as text)
        when 'region' then rated_usage.region_code
        when 'continent' then regions.continent
        when 'preset' then rated_usage.preset_code
        when 'product' then rated_usage.product
    end
"""

RAW_SPEND_BY_DIMENSIONS = text(f"""
    select {_RAW_DIMENSION.format(name="dimension_1")} as dimension_1_key,
           {_RAW_DIMENSION.format(name="dimension_2")} as dimension_2_key,
           sum(rated_usage.amount_precise) as amount_precise
    from rated_usage
    join apps on apps.org_id = rated_usage.org_id and apps.app_id = rated_usage.app_id
    join regions on regions.region_code = rated_usage.region_code
    where {_RAW_RANGE}
    group by 1, 2
    order by 3 desc
    limit :row_limit
""")  # noqa: S608 - constants of this script

RAW_MONTH_TO_DATE = text("""
    select
        sum(amount_precise) filter (where hour_at >= :month_start_at),
        sum(amount_precise) filter (where hour_at < :previous_end_at)
    from rated_usage
    where org_id = :org_id
      and ((hour_at >= :month_start_at and hour_at < :end_at)
           or (hour_at >= :previous_start_at and hour_at < :previous_end_at))
""")

RAW_APP_REGION_DAILY = text(f"""
    select cast(rated_usage.hour_at at time zone 'UTC' as date), rated_usage.app_id,
           rated_usage.region_code, sum(rated_usage.amount_precise)
    from rated_usage
    where {_RAW_RANGE}
    group by 1, 2, 3
""")  # noqa: S608 - a constant of this script

RAW_TEAM_BY_DAY = text(f"""
    select cast(rated_usage.hour_at at time zone 'UTC' as date), apps.team_id,
           sum(rated_usage.amount_precise)
    from rated_usage
    join apps on apps.org_id = rated_usage.org_id and apps.app_id = rated_usage.app_id
    where {_RAW_RANGE}
    group by 1, 2
""")  # noqa: S608 - a constant of this script

RAW_USAGE_COMPLETE_THROUGH = text(
    "select max(hour_at) + interval '1 hour' from rated_usage where org_id = :org_id"
)

# one more hour for every machine of the org alive at its last hour (runtime, egress)
ADD_ONE_HOUR = text("""
    insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb,
                               runtime_seconds, egress_internet_gb)
    select org_id, machine_id, hour_at + interval '1 hour', preset_code, memory_mb,
           3600, 0.125
    from machine_usage
    where org_id = :org_id and hour_at = :last_hour_at
""")
WITHDRAW_HOUR = text(
    "delete from machine_usage where org_id = :org_id and hour_at = :hour_at"
)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Timing:
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _time(run: Callable[[], object], repeats: int) -> Timing:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(samples)


@dataclass
class Case:
    """One page query and the same question from raw usage."""

    name: str
    org_wide: bool
    page: Callable[[Connection], object]
    raw: Callable[[Connection], object]
    small_org: bool = False  # read as the small organization's admin


def _cases(org_id: int, small_org_id: int, through: date) -> list[Case]:
    last_30 = (through - timedelta(days=30), through)
    last_90 = (through - timedelta(days=90), through)
    last_month = ((through.replace(day=1) - timedelta(days=1)).replace(day=1),
                  through.replace(day=1))
    month_start = through.replace(day=1)

    def dims(start_end, first, second="none", row_limit=None, org=org_id):
        start_date, end_date = start_end
        return (
            lambda c: readmodels.spend_by_dimensions(c, org, start_date, end_date, first,
                                                     second, row_limit),
            lambda c: c.execute(RAW_SPEND_BY_DIMENSIONS, {
                "org_id": org, "start_date": start_date, "end_date": end_date,
                "dimension_1": first, "dimension_2": second, "row_limit": row_limit}).all(),
        )

    def period(start_end, grain):
        start_date, end_date = start_end
        return (
            lambda c: readmodels.spend_by_period(c, org_id, start_date, end_date, grain),
            lambda c: c.execute(RAW_SPEND_BY_PERIOD, {
                "org_id": org_id, "start_date": start_date, "end_date": end_date,
                "grain": grain}).all(),
        )

    mtd_as_of = through - timedelta(days=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    mtd_raw = {
        "org_id": org_id, "month_start_at": _midnight(month_start),
        "end_at": _midnight(through), "previous_start_at": _midnight(previous_start),
        "previous_end_at": _midnight(min(previous_start + (through - month_start),
                                         month_start)),
    }
    cases = [
        Case("spend by day, last 30 days", True, *period(last_30, "day")),
        Case("spend by week, last 90 days", True, *period(last_90, "week")),
        Case("spend by app, last 30 days", True, *dims(last_30, "app")),
        Case("spend by team, last month", True, *dims(last_month, "team")),
        Case("spend by region, last 90 days", True, *dims(last_90, "region")),
        Case("spend by continent, last month", True, *dims(last_month, "continent")),
        Case("spend by VM size, last 30 days", True, *dims(last_30, "preset")),
        Case("spend by product, last month", True, *dims(last_month, "product")),
        Case("app x region, last 30 days", True, *dims(last_30, "app", "region")),
        Case("team x VM size, last month", True, *dims(last_month, "team", "preset")),
        Case("top 10 apps, last 90 days", True, *dims(last_90, "app", row_limit=10)),
        Case("month to date vs last month", True,
             lambda c: readmodels.spend_month_to_date(c, org_id, mtd_as_of),
             lambda c: c.execute(RAW_MONTH_TO_DATE, mtd_raw).all()),
        Case("anomaly series (app x region by day), 49 days", True,
             lambda c: readmodels.read_frame(c, "app_region_daily_series", {
                 "org_id": org_id, "start_date": through - timedelta(days=49),
                 "end_date": through}),
             lambda c: c.execute(RAW_APP_REGION_DAILY, {
                 "org_id": org_id, "start_date": through - timedelta(days=49),
                 "end_date": through}).all()),
        Case("explorer: team per day, last 30 days", True,
             lambda c: usage_explorer.read_cells(c, org_id, usage_explorer.ExplorerQuery(
                 "spend", "team", "none", "day", *last_30), None),
             lambda c: c.execute(RAW_TEAM_BY_DAY, {
                 "org_id": org_id, "start_date": last_30[0], "end_date": last_30[1]}).all()),
        Case("usage complete through", True,
             lambda c: freshness.usage_complete_through(c, org_id),
             lambda c: c.execute(RAW_USAGE_COMPLETE_THROUGH, {"org_id": org_id}).all()),
        Case("small org: spend by app, last 30 days", False,
             *dims(last_30, "app", org=small_org_id), small_org=True),
    ]
    return cases


def _orgs(engine: Engine) -> dict[str, tuple[int, int]]:
    """The big and the small organization's ids and their admins' user ids, by slug."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select organizations.slug, organizations.org_id, users.user_id "
            "from organizations join users on users.email = 'admin@' || organizations.slug "
            "|| '.example' where organizations.slug in (:big, :small)"),
            {"big": BIG_ORG, "small": SMALL_ORG}).all()
    found = {slug: (org_id, user_id) for slug, org_id, user_id in rows}
    if set(found) != {BIG_ORG, SMALL_ORG}:
        raise SystemExit(f"no {BIG_ORG!r} and {SMALL_ORG!r}: is the database seeded large?")
    return found


def _time_raw(pool: db.ReadPool, scope: db.Scope, case: Case, repeats: int) -> Timing | None:
    """The raw question's timing, each run in its own snapshot; None if one hit the cap."""
    samples = []
    for _ in range(repeats):
        try:
            with pool.snapshot(scope) as snapshot:
                samples.extend(_time(lambda s=snapshot: case.raw(s.connection), 1).samples)
        except db.ReadTimeoutError:
            return None
    return Timing(samples)


def bench_queries(pool: db.ReadPool, raw_pool: db.ReadPool, scopes: tuple[db.Scope, db.Scope],
                  cases: list[Case], repeats: int, raw_repeats: int) -> None:
    cap_s = raw_pool.statement_timeout_ms // 1000
    print(f"\n1. page queries ({repeats} runs each; the same question from raw usage "
          f"{raw_repeats} run(s), cancelled after {cap_s} s), ms")
    print(f"{'query':42} {'p50':>8} {'p95':>8} {'raw p50':>10} {'raw p95':>10} {'x faster':>9}")
    for case in cases:
        scope = scopes[case.small_org]
        with pool.snapshot(scope) as snapshot:
            case.page(snapshot.connection)  # warm the cache and the plan
            page = _time(lambda c=case, s=snapshot: c.page(s.connection), repeats)
        raw = _time_raw(raw_pool, scope, case, raw_repeats)
        if raw is None:  # the raw question outran the cap: the ratio is at least cap / p50
            ratio, raw_p50, raw_p95 = cap_s * 1000 / page.p50, f">{cap_s}000", f">{cap_s}000"
            ratio_text = f">{ratio:7.0f}x"
        else:
            ratio, raw_p50, raw_p95 = raw.p50 / page.p50, f"{raw.p50:.0f}", f"{raw.p95:.0f}"
            ratio_text = f"{ratio:8.0f}x"
        mark = "" if page.p95 < 50 and (not case.org_wide or ratio >= 100) else " *"
        print(f"{case.name:42} {page.p50:8.1f} {page.p95:8.1f} {raw_p50:>10} {raw_p95:>10} "
              f"{ratio_text}{mark}")
    print("   (* misses a target: p95 < 50 ms, and >= 100x for organization-wide questions)")


def bench_fold(engine: Engine, org_id: int) -> None:
    print("\n3. folding one new hour into the rollups")
    with engine.begin() as connection:
        last_hour_at = connection.execute(text(
            "select max(hour_at) from machine_usage where org_id = :org_id"),
            {"org_id": org_id}).scalar_one()
    new_hour_at = last_hour_at + timedelta(hours=1)
    rollups.refresh(engine)  # start from up-to-date rollups
    try:
        with engine.begin() as connection:
            from fleetspend.partitions import ensure_month_partitions

            ensure_month_partitions(connection, new_hour_at, new_hour_at + timedelta(hours=1))
            started = time.perf_counter()
            machines = connection.execute(ADD_ONE_HOUR, {
                "org_id": org_id, "last_hour_at": last_hour_at}).rowcount
        insert_s = time.perf_counter() - started
        started = time.perf_counter()
        result = rollups.refresh(engine)
        fold_s = time.perf_counter() - started
        print(f"   one new hour for {machines:,} machines: insert {insert_s:.2f} s, "
              f"fold {fold_s:.2f} s ({result.hours} org-hours added on, {result.days} org-days "
              f"recomputed){'' if fold_s < 2 else ' *'}")
    finally:
        with engine.begin() as connection:
            connection.execute(WITHDRAW_HOUR, {"org_id": org_id, "hour_at": new_hour_at})
        started = time.perf_counter()
        rollups.refresh(engine)
        print(f"   withdrawing that hour again (a correction): fold "
              f"{time.perf_counter() - started:.2f} s")
    day = new_hour_at.date()
    with engine.begin() as connection:
        connection.execute(text(
            "insert into rollup_pending_days (org_id, usage_date) "
            "select org_id, :day from organizations"), {"day": day - timedelta(days=1)})
        started = time.perf_counter()
        rebuilt = rollups.refresh_in(connection)
    print(f"   baseline, recomputing a whole day of every org ({rebuilt.days} org-days): "
          f"{time.perf_counter() - started:.2f} s")


def bench_load(pool: db.ReadPool, scope: db.Scope, org_id: int, through: date, threads: int,
               views_per_thread: int) -> None:
    print(f"\n2. load: {threads} concurrent page views x {views_per_thread} each "
          "(a view = 4 queries in one snapshot)")
    last_30 = (through - timedelta(days=30), through)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(threads)

    def page_view(turn: int) -> None:
        dimension = list(dimensions.DIMENSIONS)[turn % len(dimensions.DIMENSIONS)]
        with pool.snapshot(scope) as snapshot:
            connection = snapshot.connection
            readmodels.spend_by_period(connection, org_id, *last_30)
            readmodels.spend_by_dimensions(connection, org_id, *last_30, dimension,
                                           row_limit=10)
            readmodels.spend_month_to_date(connection, org_id, through - timedelta(days=1))
            freshness.read_freshness(connection, org_id)

    def worker(number: int) -> None:
        start_gate.wait()
        for turn in range(views_per_thread):
            started = time.perf_counter()
            try:
                page_view(number + turn)
            except Exception as error:  # counted and reported, the run goes on
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    timing = Timing(latencies or [float("nan")])
    ok = timing.p95 < 150 and not errors
    print(f"   {len(latencies)} views in {elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s): "
          f"p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms, errors {len(errors)}"
          f"{'' if ok else ' *'}")
    print(f"   mean {statistics.fmean(timing.samples):.1f} ms, max {max(timing.samples):.1f} ms; "
          f"read pool: {pool.pool_size} connections (+{pool.pool_size} on overflow) for "
          f"{threads} threads")
    for error in errors[:5]:
        print(f"   error: {error}")


def _throwaway_database() -> tuple[str, Callable[[], None]]:
    from fleetspend.seed import generate

    server = embedded.temporary_server()
    server.start()
    server.create_database(db.APP_DATABASE)
    url = server.url(db.APP_DATABASE)
    engine = db.make_engine(url, poolclass=NullPool)
    schema.upgrade(engine)
    started = time.perf_counter()
    print("seeding the large scale into a throw-away server (several minutes)...", flush=True)
    generate(engine, scale="large", seed=1)
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()

    def cleanup() -> None:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)

    return url, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--raw-repeats", type=int, default=1)
    parser.add_argument("--raw-cap", type=int, default=30,
                        help="seconds after which a raw-usage baseline is cancelled")
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--views", type=int, default=25, help="page views per thread")
    options = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL")
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if not url:
        url, cleanup = _throwaway_database()
    try:
        engine = db.make_engine(url)
        print("load average (1, 5, 15 min) at start: "
              + ", ".join(f"{load:.1f}" for load in os.getloadavg()))
        started = time.perf_counter()
        caught_up = rollups.refresh(engine)
        print(f"rollups brought up to date in {time.perf_counter() - started:.1f} s: "
              f"{caught_up.describe()}")
        orgs = _orgs(engine)
        (org_id, admin_id), (small_org_id, small_admin_id) = orgs[BIG_ORG], orgs[SMALL_ORG]
        with engine.connect() as connection:
            through_at = freshness.usage_complete_through(connection, org_id)
            counts = connection.execute(text(
                "select (select count(*) from machines where org_id = :org_id), "
                "(select count(*) from rollup_usage_daily where org_id = :org_id), "
                "(select count(*) from rollup_resource_daily where org_id = :org_id)"),
                {"org_id": org_id}).one()
        through = through_at.date()
        print(f"{BIG_ORG}: {counts[0]:,} machines, usage complete through "
              f"{through_at:%Y-%m-%d %H:%M} UTC; rollup rows: {counts[1]:,} daily meter, "
              f"{counts[2]:,} daily per resource")
        replicas = [u.strip() for u in os.environ.get("REPLICA_URLS", "").split(",") if u.strip()]
        # pages read as the app's role, bound by row-level security, as an admin of the org
        # the pages' own pool settings (READ_POOL_SIZE), as the app would run
        pool = db.ReadPool([db.as_app_role(u) for u in replicas or [url]],
                           pool_size=int(os.environ.get("READ_POOL_SIZE", db.DEFAULT_POOL_SIZE)),
                           statement_timeout_ms=120_000)
        scope = db.Scope(user_id=admin_id)
        small_scope = db.Scope(user_id=small_admin_id)
        print(f"reads through: {', '.join(pool.servers())} as {db.APP_ROLE}, "
              f"scope user {admin_id} (admin@{BIG_ORG}.example)")
        raw_pool = db.ReadPool(pool.replica_urls, pool_size=1,
                               statement_timeout_ms=options.raw_cap * 1000)
        bench_queries(pool, raw_pool, (scope, small_scope),
                      _cases(org_id, small_org_id, through), options.repeats, options.raw_repeats)
        raw_pool.dispose()
        bench_load(pool, scope, org_id, through, options.threads, options.views)
        bench_fold(engine, org_id)
        print("\nload average (1, 5, 15 min) at end: "
              + ", ".join(f"{load:.1f}" for load in os.getloadavg()))
        pool.dispose()
        engine.dispose()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
