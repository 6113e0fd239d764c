"""A/B of two checkouts' write path at xlarge: the same hours folded by each checkout's code,
alternately, on one database, so that a busy machine weighs on both sides alike.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fs_xlarge_raw \\
        uv run python bench/write_path_ab.py --baseline /work/main [--rounds 3]

The database is one built by ``build_xlarge.py --raw-month 2026-11`` (real hourly rows for
northwind's 100,000 machines). Each round, for each checkout in turn (the baseline first, then
the checkout run from): the rollups the fold rewrites are vacuumed (so that neither side reads
the other's dead rows there), then that checkout's own ``fleetspend`` (in a process of its
own, with its ``.venv``) folds northwind's next hour for every live machine (the first hour of
a new day), then the hour after it (a day's later hour: its rows are added onto the day's),
then both are deleted and the withdrawal folded; each timed. The database ends as it began.
Prints each run with the load average, then per side the median and p95 of each figure.
Target (issue 16): one hour of 100,000 machines under 5 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

FIGURES = ("first_hour", "later_hour", "withdrawn")
# the rollups the fold rewrites (usage itself is left: vacuuming it walks the month's
# indexes, minutes at xlarge, and both sides read the withdrawn hours' dead rows alike)
VACUUMED = ("rollup_resource_daily", "rollup_usage_daily", "rollup_usage_monthly",
            "rollup_org_daily")


def one_run(url: str) -> dict[str, float]:
    """The three folds with the code of the checkout this process runs in (its cwd)."""
    sys.path.insert(0, os.getcwd())
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    from bench.build_xlarge import ADD_HOUR, APP_STEP
    from fleetspend import db, rollups
    from fleetspend.partitions import ensure_month_partitions

    engine = db.make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        org_id, last_hour_at = connection.execute(text(
            "select org_id, (select max(hour_at) from machine_usage "
            "where machine_usage.org_id = organizations.org_id) "
            "from organizations where slug = 'northwind'")).one()
    rollups.refresh(engine)
    seconds = {}
    for n, figure in enumerate(FIGURES[:2], start=1):
        hour_at = last_hour_at + timedelta(hours=n)
        with engine.begin() as connection:
            ensure_month_partitions(connection, hour_at, hour_at + timedelta(hours=1))
            # every live machine of the organization, as build_xlarge.py adds an hour
            connection.execute(ADD_HOUR, {"org_id": org_id, "hour_at": hour_at,
                                          "every": True, "app_step": APP_STEP})
        started = time.perf_counter()
        rollups.refresh(engine)
        seconds[figure] = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(text(
            "delete from machine_usage where org_id = :org_id and hour_at > :hour_at"),
            {"org_id": org_id, "hour_at": last_hour_at})
    started = time.perf_counter()
    rollups.refresh(engine)
    seconds["withdrawn"] = time.perf_counter() - started
    engine.dispose()
    return seconds


def _vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("vacuum " + ", ".join(VACUUMED))  # constants of this script


def _p95(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.95 * len(values)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the other checkout (with a .venv)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to the xlarge database with raw usage")
    if options.one_run:
        print(json.dumps(one_run(url)))
        return
    sides = {"before": Path(options.baseline).resolve(), "after": Path.cwd()}
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()), flush=True)
    for round_no in range(1, options.rounds + 1):
        for side, checkout in sides.items():
            _vacuum(url)
            load = os.getloadavg()[0]
            output = subprocess.run(
                [str(checkout / ".venv" / "bin" / "python"), str(Path(__file__).resolve()),
                 "--baseline", str(checkout), "--one-run"],
                cwd=checkout, capture_output=True, text=True, check=True).stdout
            seconds = json.loads(output.splitlines()[-1])
            runs[side].append(seconds)
            print(f"  round {round_no} {side} ({checkout}): "
                  + ", ".join(f"{figure} {seconds[figure]:.2f} s" for figure in FIGURES)
                  + f"; load average {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    for side in sides:
        print(f"{side}: " + "; ".join(
            f"{figure} median {statistics.median(run[figure] for run in runs[side]):.2f} s, "
            f"p95 {_p95([run[figure] for run in runs[side]]):.2f} s" for figure in FIGURES))
    print("load average (1, 5, 15 min) at end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
