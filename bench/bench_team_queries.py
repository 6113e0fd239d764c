"""Benchmark of the team comparison page's queries at the large scale.

    uv run python bench/bench_team_queries.py [--repeats 30] [--raw-cap 60]

The database is BENCH_DATABASE_URL (migrated and seeded at the large scale: northwind with
10,000 machines x 90 days beside five smaller organizations), or else a throw-away embedded
server seeded here (several minutes), as bench/bench_queries.py does; the seed folds its
usage into the rollups, and this script only reads. Reads go through the
read pool as the app's role under row-level security, scoped to northwind's admin, one
read-only snapshot per run, exactly as the page reads.

Printed, all measured in this run, for the page's default period (the last whole calendar
month, read from the monthly rollup) and for the last 30 days (read from the daily rollup):

1. each query the page runs (the team mix of both periods, the teams, spend per team per day
   for the trend, the invoices, the freshness line), p50 and p95 over ``--repeats`` runs;
2. the page's whole read (its default view's queries in one snapshot, the trend by month)
   and the comparison computed from it
   in Python (totals, splits, mixes, movers and their reasons);
3. baseline: the team mix answered from raw usage (the ``rated_usage`` view invoices are
   rated from), cancelled after ``--raw-cap`` seconds, and the ratio of the medians.

Target (issue 8): p95 < 50 ms for each query at this scale.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import timedelta

from bench_queries import BIG_ORG, SMALL_ORG, _orgs, _throwaway_database, _time
from sqlalchemy import Connection, text

from fleetspend import clock, db
from fleetspend.reads import freshness, invoice_drill, teams

TARGET_MS = 50
DEFAULT_GRAIN = teams.TREND_GRAINS[0]

# the team mix from raw hourly usage: what the rollups save the page from reading
RAW_TEAM_MIX = text("""
    select rated_usage.hour_at >= cast(:start_date as date)::timestamp at time zone 'UTC'
               as is_current,
           apps.team_id, rated_usage.app_id, rated_usage.region_code, rated_usage.preset_code,
           sum(rated_usage.amount_precise) as amount_precise,
           sum(rated_usage.consumed_quantity) filter (
               where rated_usage.product = 'machine_runtime') as machine_seconds,
           count(distinct (rated_usage.resource_id,
                           cast(rated_usage.hour_at at time zone 'UTC' as date))) filter (
               where rated_usage.product = 'machine_runtime'
                 and rated_usage.consumed_quantity > 0) as machine_days
    from rated_usage
    join apps on apps.org_id = rated_usage.org_id and apps.app_id = rated_usage.app_id
    where rated_usage.org_id = :org_id
      and rated_usage.hour_at >= cast(:previous_start_date as date)::timestamp
          at time zone 'UTC'
      and rated_usage.hour_at < cast(:end_date as date)::timestamp at time zone 'UTC'
    group by 1, 2, 3, 4, 5
""")


def page_queries(org_id: int, period: teams.Period) -> dict[str, Callable[[Connection], object]]:
    """The page's reads by name, each a function of the snapshot's connection."""
    def trend(grain: str) -> Callable[[Connection], object]:
        return lambda c: teams.read_trend(c, org_id, period, grain)

    return {
        "team mix, both periods": lambda c: teams.read_mix(c, org_id, period),
        "teams": lambda c: teams.read_teams(c, org_id),
        **{f"spend per team per {grain} (trend)": trend(grain) for grain in teams.TREND_GRAINS},
        "invoices": lambda c: invoice_drill.invoices(c, org_id),
        "freshness": lambda c: freshness.read_freshness(c, org_id),
    }


def bench_period(pool: db.ReadPool, raw_pool: db.ReadPool, scope: db.Scope, org_id: int,
                 period: teams.Period, repeats: int) -> bool:
    """Print one period's figures; whether every query met the target."""
    print(f"\n{period.days} days, {period.start_date} to {period.last_day} "
          f"(against {period.previous_start_date} on), ms over {repeats} runs")
    print(f"{'query':40} {'p50':>8} {'p95':>8}")
    met = True
    queries = page_queries(org_id, period)
    timings = {}
    for name, run in queries.items():
        with pool.snapshot(scope) as snapshot:
            run(snapshot.connection)  # warm the cache and the plan
            timing = timings[name] = _time(lambda r=run, s=snapshot: r(s.connection), repeats)
        met &= timing.p95 < TARGET_MS
        print(f"{name:40} {timing.p50:8.1f} {timing.p95:8.1f}"
              f"{'' if timing.p95 < TARGET_MS else '  * over target'}")

    # the page's default view reads the monthly trend only
    viewed = [run for name, run in queries.items()
              if "trend" not in name or name.startswith(f"spend per team per {DEFAULT_GRAIN}")]

    def whole_read() -> object:
        with pool.snapshot(scope) as snapshot:
            return [run(snapshot.connection) for run in viewed]

    page = _time(whole_read, repeats)
    print(f"{'the page read (default view, one snapshot)':40} {page.p50:8.1f} {page.p95:8.1f}")
    with pool.snapshot(scope) as snapshot:
        mix = teams.read_mix(snapshot.connection, org_id, period)
        names = teams.read_teams(snapshot.connection, org_id)
    computed = _time(lambda: teams.compare(mix, names, period), repeats)
    print(f"{'comparison in Python (' + str(len(mix)) + ' mix rows)':40} "
          f"{computed.p50:8.1f} {computed.p95:8.1f}")

    params = period.params(org_id)
    try:
        with raw_pool.snapshot(scope) as snapshot:
            raw = _time(lambda: snapshot.connection.execute(RAW_TEAM_MIX, params).all(), 1)
    except db.ReadTimeoutError:
        cap_s = raw_pool.statement_timeout_ms // 1000
        print(f"{'baseline: team mix from raw usage':40} {'> ' + str(cap_s) + ' s':>8} "
              "(cancelled)")
        return met
    mix_p50 = timings["team mix, both periods"].p50
    print(f"{'baseline: team mix from raw usage':40} {raw.p50:8.1f} {'':>8} "
          f"{raw.p50 / mix_p50:,.0f}x the rollup read's median")
    return met


def load_average(when: str) -> None:
    print(f"load average (1, 5, 15 min) {when}: "
          + ", ".join(f"{load:.1f}" for load in os.getloadavg()))


def run(url: str, repeats: int, raw_cap_s: int) -> None:
    """Every figure, against the database at ``url``."""
    engine = db.make_engine(url)
    load_average("at start")
    (org_id, admin_id) = _orgs(engine)[BIG_ORG]
    with engine.connect() as connection:
        through_at = freshness.usage_complete_through(connection, org_id)
        machines, meter_rows, pending, team_count, app_count = connection.execute(text(
            "select (select count(*) from machines where org_id = :org_id), "
            "(select count(*) from rollup_usage_daily where org_id = :org_id), "
            "(select count(*) from rollup_pending_days), "
            "(select count(*) from teams where org_id = :org_id), "
            "(select count(*) from apps where org_id = :org_id)"),
            {"org_id": org_id}).one()
    engine.dispose()
    last_day = clock.as_of(through_at).last_day
    print(f"{BIG_ORG} (beside {SMALL_ORG} and others): {machines:,} machines, {team_count} "
          f"teams, {app_count} apps, {meter_rows:,} daily meter rows ({pending} days not "
          f"folded in yet), usage complete through {through_at:%Y-%m-%d %H:%M} UTC")
    pool = db.ReadPool([db.as_app_role(url)], pool_size=2, statement_timeout_ms=120_000)
    raw_pool = db.ReadPool([db.as_app_role(url)], pool_size=1,
                           statement_timeout_ms=raw_cap_s * 1000)
    scope = db.Scope(user_id=admin_id)
    met = True
    month_start, month_end = teams.last_whole_month(last_day)
    for period in (teams.Period(month_start, month_end + timedelta(days=1)),
                   teams.Period(last_day - timedelta(days=29), last_day + timedelta(days=1))):
        met &= bench_period(pool, raw_pool, scope, org_id, period, repeats)
    print(f"\ntarget: p95 < {TARGET_MS} ms for each query:", "met" if met else "NOT met")
    load_average("at end")
    pool.dispose()
    raw_pool.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--raw-cap", type=int, default=60,
                        help="seconds after which the raw-usage baseline is cancelled")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        run(url, options.repeats, options.raw_cap)
        return
    url, cleanup = _throwaway_database()
    try:
        run(url, options.repeats, options.raw_cap)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
