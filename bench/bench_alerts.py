"""Benchmark of `fleetspend alerts run` over every organization at the large scale.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB uv run python \\
        bench/bench_alerts.py [--repeats 5] [--raw-cap 300]

DB must be migrated to head and seeded at the large scale (``fleetspend seed --scale large``
or bench/bench_load.py: northwind with 10,000 machines x 90 days beside five smaller
organizations). The script gives every organization a budget for the whole organization and
one per team (at half their month so far, so thresholds fire), then, all in this run:

1. ``fleetspend alerts run`` (evaluation of every organization, then delivery) as the command
   runs it: the first run, which fires the alerts, then ``--repeats`` runs that find them
   fired already (the steady state of a timer every few minutes); p50 and p95;
2. baseline: the same figures recomputed from raw usage (the ``rated_usage`` view invoices
   are rated from): every budget's month so far and forecast and every organization's
   anomalies, from one query per organization of spend per day, app and region over the
   anomaly window, cancelled after ``--raw-cap`` seconds; and the ratio of the medians;
3. a check that both agree on every organization's month so far.

It removes its budgets and their alerts at the end. The load average is printed before and
after: on a shared 2-core machine the figures only mean something when little else runs.
Target (issue 21): the run under 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from fleetspend import anomaly_search, clock, db, forecasting, money
from fleetspend.alerts import evaluate, figures
from fleetspend.alerts.budgets import BudgetScope
from fleetspend.alerts.run import run_alerts

TARGET_S = 5.0
BENCH_NAME = "bench_alerts"
DAY = timedelta(days=1)

RAW_DAILY = text("""
    select cast(rated_usage.hour_at at time zone 'UTC' as date) as usage_date,
           rated_usage.app_id, rated_usage.region_code,
           sum(rated_usage.amount_precise) as amount_precise
    from rated_usage
    where rated_usage.org_id = :org_id
      and rated_usage.hour_at >= cast(:start_date as date)::timestamp at time zone 'UTC'
      and rated_usage.hour_at < cast(:end_date as date)::timestamp at time zone 'UTC'
    group by 1, 2, 3
""")
RAW_THROUGH = text("select max(hour_at) + interval '1 hour' from rated_usage "
                   "where org_id = :org_id")


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _add_budgets(engine: Engine) -> int:
    """A budget for each organization and each of its teams, at half the month so far."""
    with engine.begin() as connection:
        orgs = connection.execute(text("select org_id from organizations")).scalars().all()
        added = 0
        for org_id in orgs:
            now = figures.usage_now(connection, org_id)
            if now is None:
                continue
            scopes = [("organization", None)] + [
                ("team", team_id) for team_id in connection.execute(text(
                    "select team_id from teams where org_id = :org"), {"org": org_id}).scalars()]
            for kind, team_id in scopes:
                month = figures.month_spend_for_scope(
                    connection, org_id, BudgetScope(kind, team_id), now)
                connection.execute(text(
                    "insert into budgets (org_id, name, scope_kind, team_id, amount_cents) "
                    "values (:org, :name, :kind, :team, :cents)"),
                    {"org": org_id, "name": f"{BENCH_NAME} {kind} {team_id or ''}",
                     "kind": kind, "team": team_id,
                     "cents": max(month.spent_cents // 2, 100)})
                added += 1
    return added


def _remove(engine: Engine, since: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "delete from alerts where fired_at >= :since or budget_id in "
            "(select budget_id from budgets where name like :name)"),
            {"since": since, "name": f"{BENCH_NAME} %"})
        connection.execute(text("delete from budgets where name like :name"),
                           {"name": f"{BENCH_NAME} %"})


def _raw_org(connection: Connection, org_id: int) -> dict[str, object]:
    """Every figure evaluation reads for one organization, from raw usage."""
    through_at = connection.execute(RAW_THROUGH, {"org_id": org_id}).scalar()
    if through_at is None:
        return {}
    now = clock.as_of(through_at)
    series_start, complete_until, _since = anomaly_search.anomaly_window(now)
    start = min(series_start, now.month_start - figures.HISTORY_READ_DAYS * DAY)
    rows = pd.DataFrame(connection.execute(RAW_DAILY, {
        "org_id": org_id, "start_date": start, "end_date": now.last_day + DAY}).all(),
        columns=["usage_date", "app_id", "region_code", "amount_precise"])
    teams = dict(connection.execute(text("select app_id, team_id from apps where org_id = :o"),
                                    {"o": org_id}).all())
    names = dict(connection.execute(text("select app_id, name from apps where org_id = :o"),
                                    {"o": org_id}).all())
    cities = dict(connection.execute(text("select region_code, city from regions")).all())
    results: dict[str, object] = {}
    by_scope: dict[object, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows.itertuples():
        by_scope["organization"][row.usage_date] += row.amount_precise
        by_scope[teams[row.app_id]][row.usage_date] += row.amount_precise
    for scope, days in by_scope.items():
        spent = sum((v for d, v in days.items() if d >= now.month_start), Decimal(0))
        history = [v for d, v in sorted(days.items()) if d < complete_until]
        results[str(scope)] = (money.to_cents(spent),
                               forecasting.forecast_month(spent, history, now.remaining_days))
    window = rows[(rows.usage_date >= series_start) & (rows.usage_date < complete_until)]
    series = [
        {"app_id": app_id, "app_name": names[app_id], "region_code": region,
         "city": cities[region],
         "day_offsets": [(d - series_start).days for d in group.usage_date],
         "day_cents": [money.to_cents(v) for v in group.amount_precise]}
        for (app_id, region), group in window.sort_values("usage_date").groupby(
            ["app_id", "region_code"])]
    results["anomalies"] = anomaly_search.find_anomalies(
        pd.DataFrame(series), series_start, since=complete_until - evaluate.ANOMALY_LOOKBACK_DAYS
        * DAY)
    return results


def _raw_all(engine: Engine, cap_s: float) -> tuple[float | None, dict[int, dict]]:
    started = time.perf_counter()
    found = {}
    try:
        with engine.begin() as connection:
            connection.execute(text("select set_config('statement_timeout', :ms, true)"),
                               {"ms": str(int(cap_s * 1000))})
            for org_id in connection.execute(text("select org_id from organizations")
                                             ).scalars().all():
                found[org_id] = _raw_org(connection, org_id)
                if time.perf_counter() - started > cap_s:
                    return None, found
    except OperationalError:
        return None, found
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--raw-cap", type=float, default=300.0)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    engine = create_engine(db.sqlalchemy_url(url), poolclass=NullPool)
    with engine.connect() as connection:
        orgs = connection.execute(text("select count(*) from organizations")).scalar_one()
        machines = connection.execute(text("select count(*) from machines")).scalar_one()
    print(f"{orgs} organizations, {machines} machines; {_load()}")
    started_at = datetime.now(UTC)
    budgets = _add_budgets(engine)
    try:
        first_started = time.perf_counter()
        first = run_alerts(engine, lambda line: None)
        first_s = time.perf_counter() - first_started
        samples = []
        for _ in range(args.repeats):
            run_started = time.perf_counter()
            again = run_alerts(engine, lambda line: None)
            samples.append(time.perf_counter() - run_started)
            assert not again.alert_ids, "a second run fired alerts again"
        raw_s, raw = _raw_all(engine, args.raw_cap)
        with engine.connect() as connection:
            evaluated = {org_id: (figures.month_spend_for_scope(
                connection, org_id, BudgetScope("organization"), now)
                .spent_cents if (now := figures.usage_now(connection, org_id)) else None)
                for org_id in raw}
    finally:
        _remove(engine, started_at)
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    print(f"{budgets} budgets (each organization and each team)")
    print(f"alerts run, first (fires {len(first.alert_ids)} alerts): {first_s:.2f} s")
    print(f"alerts run, steady state over {args.repeats} runs: p50 {p50:.2f} s, "
          f"p95 {p95:.2f} s   target < {TARGET_S:.0f} s: {'met' if p95 < TARGET_S else 'MISSED'}")
    if raw_s is None:
        print(f"baseline, the same figures from raw usage: > {args.raw_cap:.0f} s (cancelled); "
              f"ratio > {args.raw_cap / p50:.0f}x")
    else:
        print(f"baseline, the same figures from raw usage: {raw_s:.2f} s; "
              f"ratio {raw_s / p50:.0f}x")
        agree = all(evaluated[org_id] == found.get("organization", (None,))[0]
                    for org_id, found in raw.items() if found)
        print(f"month so far of every organization, rollups vs raw: "
              f"{'equal' if agree else 'DIFFERENT'}")
    print(_load())


if __name__ == "__main__":
    main()
