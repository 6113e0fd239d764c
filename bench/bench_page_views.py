"""Benchmark of what the pages actually read: every statement of every default page view.

    uv run python bench/bench_page_views.py [--repeats 30] [--threads 20] [--views 10]
        [--only NAME] [--raw-repeats 3] [--slots 4,6,10 --rounds 3]

The database is BENCH_DATABASE_URL: a database already migrated, seeded at the large scale
(``fleetspend seed --scale large``: northwind has 10,000 machines over 90 days, invoiced) or
built to the xlarge scale (bench/build_xlarge.py). Its rollups are brought up to date first.

For each page view (each page's default view as northwind's admin, and a few views the
pages offer one click away), the page runs once in Streamlit's AppTest, inside app.py's frame
as the app serves it (the visit worked out, the sidebar's unread badge), with its caches
cleared while :func:`fleetspend.db.recording` records every snapshot it opens and every
statement it runs there, SQL and parameters as sent to the driver. Those statements are then
replayed through the app's read pool (as ``fleetspend_app``, bound by row-level security,
each snapshot with the scope the page used) ``--repeats`` times. Printed:

1. per page view: snapshots and statements, p50 and p95 of the whole view's reads (every
   snapshot opened and every statement run and fetched, no Streamlit), and the page's cold
   full rerun in AppTest (caches cleared) for what drawing adds;
2. per statement: p50 and p95, named by its file in queries/ (others by their first words);
3. the raw baseline measured in the same run: the fastest honest answer from raw hourly usage
   (meters summed per machine, size, price list and day first, then priced, as invoices are
   drafted: ``fleetspend.billing.rating.stage_sums``/``price_sums``; not the rated_usage view)
   for the explorer's default question (spend per app per day, 30 days) and the overview's
   anomaly series (per app and region per day), as the schema owner in a rolled-back
   transaction (temporary tables need a writable one);
4. a concurrency run: ``--threads`` threads each replaying ``--views`` page views (the
   recorded views in turn) at once through the read pool: p50/p95 per view, views per
   second, errors. A view's time runs from asking the pool for its snapshot (waiting for a
   turn when every read connection is busy: READ_POOL_SIZE, as many again on overflow) to
   its last row fetched; it holds the database's work and this client's (SQLAlchemy,
   psycopg, rows fetched), not Streamlit's drawing. Client and database share the machine's
   cores, so the client's CPU per view is printed beside the figures;
5. with ``--slots``: the concurrency run again through pools letting at most so many views
   read at once (READ_CONCURRENT_VIEWS), the counts in turn, ``--rounds`` times.

Targets (issue 16), at large: every statement p95 < 50 ms, every view's reads p95 < 100 ms,
20 concurrent views p95 < 150 ms with no errors; at xlarge: every statement p95 < 100 ms.
The load average is printed at start and end: on a shared 2-core machine the figures mean
something only when nothing else runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text
from sqlalchemy.pool import NullPool
from streamlit.testing.v1 import AppTest

from bench.bench_pages import ORG, _clear_caches, _configure, _open
from fleetspend import db, rollups
from fleetspend.billing import rating
from fleetspend.reads import freshness
from fleetspend.ui import access
from queries import catalog


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered),
            ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))])


def _views(url: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, page, query parameters) of the views benchmarked, looked up in the data."""
    engine = db.make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": ORG}).scalar_one()
        number = connection.execute(text(
            "select invoice_number from invoices where org_id = :org_id "
            "and status in ('finalized', 'paid') order by period_start_date desc limit 1"),
            {"org_id": org_id}).scalar_one()
        machine = connection.execute(text(
            "select allocations.resource_id from invoice_allocations as allocations "
            "join invoices using (org_id, invoice_id) where invoices.invoice_number = :number "
            "and allocations.resource_kind = 'machine' "
            "order by allocations.amount_cents desc limit 1"), {"number": number}).scalar()
    engine.dispose()
    invoice = {"invoice": number}
    return [
        ("overview", "overview", {}),
        ("explorer (30 days by app, daily)", "explorer", {}),
        ("explorer: 90 days team x region, weekly", "explorer",
         {"from": "2026-08-28", "to": "2026-11-25", "by": "team", "by2": "region",
          "grain": "week"}),
        ("teams (last month, trend by month)", "teams", {}),
        ("teams: trend by week", "teams", {"grain": "week"}),
        ("teams: trend by day", "teams", {"grain": "day"}),
        ("invoices", "invoices", {}),
        ("invoice (by product)", "invoice", invoice),
        ("invoice apps", "invoice_apps", invoice),
        ("invoice machines, page 1", "invoice_machines", invoice),
        ("invoice machines, page 100", "invoice_machines", {**invoice, "page": "100"}),
        ("machine", "machine", {**invoice, "machine": machine or ""}),
        ("members", "members", {}),
    ]


_NAMES = {body.lstrip().splitlines()[0]: name for name, body in catalog().items()}


def statement_name(statement: str) -> str:
    """A statement's file in queries/, else its first words."""
    first = statement.lstrip().splitlines()[0] if statement.strip() else ""
    if first in _NAMES:
        return _NAMES[first]
    return re.sub(r"\s+", " ", statement).strip()[:44]


@dataclass
class View:
    name: str
    snapshots: list[db.RecordedSnapshot]
    cold_ms: list[float] = field(default_factory=list)
    reads_ms: list[float] = field(default_factory=list)
    round_trips: int = 0
    statement_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def statements(self) -> int:
        return sum(len(snapshot.statements) for snapshot in self.snapshots)


def replay(pool: db.ReadPool, view: View,
           timings: dict[str, list[float]] | None = None) -> float:
    """Run the view's recorded snapshots again; ms for all of them (each statement's ms in
    ``timings`` under its name, summed per view when a name runs twice)."""
    started = time.perf_counter()
    per_view: dict[str, float] = defaultdict(float)
    for snapshot in view.snapshots:
        with pool.snapshot(snapshot.scope) as opened:
            for statement, parameters in snapshot.statements:
                statement_started = time.perf_counter()
                result = opened.connection.exec_driver_sql(statement, parameters)
                if result.returns_rows:
                    result.fetchall()
                per_view[statement_name(statement)] += (
                    time.perf_counter() - statement_started) * 1000
    if timings is not None:
        for name, ms in per_view.items():
            timings[name].append(ms)
    return (time.perf_counter() - started) * 1000


def round_trips(url: str, view: View) -> int:
    """Round trips to the server of one warm replay of the view: every message after which
    the client waits for the server (a simple query, or the Sync ending an extended one), as
    libpq's trace of a pool of its own shows them (checkout, BEGIN, statements, COMMIT)."""
    pool = db.ReadPool([db.as_app_role(url)], pool_size=1)
    with tempfile.TemporaryFile("w+") as trace:
        for server in pool._replicas:
            event.listen(server.engine, "connect",
                         lambda connection, _record: connection.pgconn.trace(trace.fileno()))
        replay(pool, view)  # connect, prepare
        trace.seek(0, os.SEEK_END)
        start = trace.tell()
        replay(pool, view)
        trace.seek(start)
        sent = [line.split("\t") for line in trace.read().splitlines()]
    pool.dispose()
    return sum(1 for fields in sent if len(fields) > 3 and fields[1] == "F"
               and fields[3] in ("Query", "Sync"))


def _run_in_frame(app: AppTest) -> None:
    """Run the page as the app serves it: inside app.py's frame (the visit, the sidebar with
    its unread badge, the menu), not alone as AppTest runs a page switched to. The page finds
    that it has not been through app.py's navigation and runs again through it, as a deep
    link on a fresh server does (access.run_through_navigation), before it reads anything."""
    app.session_state[access.NAVIGATED_KEY] = False
    app.run()
    if app.exception:
        raise RuntimeError(str(app.exception))


def record(name: str, page: str, params: dict[str, str], repeats: int) -> View:
    """Run the page in the app's frame (caches cleared) recording its reads; time its cold
    reruns."""
    app = _open(page, params)
    _run_in_frame(app)  # imports, pools, first compile
    _clear_caches()
    with db.recording() as snapshots:
        _run_in_frame(app)
    view = View(name, list(snapshots))
    for _ in range(repeats):
        _clear_caches()
        started = time.perf_counter()
        _run_in_frame(app)
        view.cold_ms.append((time.perf_counter() - started) * 1000)
    return view


# --- the raw baseline -------------------------------------------------------------------------

RAW_QUESTIONS = {
    "explorer default from raw: spend per app per day, 30 days":
        ("resource_products.app_id", 30),
    "anomaly series from raw: per app and region per day, 81 days":
        ("resource_products.app_id, resource_products.region_code", 81),
}


def raw_baseline(url: str, through: date, repeats: int) -> list[tuple[str, list[float]]]:
    """ms to answer each raw question from hourly usage, sums first and then priced."""
    engine = db.make_engine(url, poolclass=NullPool)
    results = []
    with engine.connect() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": ORG}).scalar_one()
    for label, (keys, days) in RAW_QUESTIONS.items():
        end = datetime(through.year, through.month, through.day, tzinfo=UTC)
        start = end - timedelta(days=days)
        statement = text(f"""
            create temp table raw_answer on commit drop as
            with {rating.RESOURCE_PRODUCTS_CTES}
            select resource_products.usage_date, {keys},
                   cast(round(sum(resource_products.amount_precise) * 100) as bigint) as cents
            from resource_products
            group by 1, {keys}
        """)  # noqa: S608 - constants of this script
        samples = []
        for _ in range(repeats):
            with engine.connect() as connection:
                transaction = connection.begin()
                started = time.perf_counter()
                params = rating.stage_sums(connection, start, end, [org_id], grain="day")
                rating.price_sums(connection, statement, params)
                connection.execute(text("select count(*) from raw_answer")).scalar_one()
                samples.append((time.perf_counter() - started) * 1000)
                transaction.rollback()
        results.append((label, samples))
    engine.dispose()
    return results


# --- concurrency ------------------------------------------------------------------------------


def concurrent(pool: db.ReadPool, views: list[View], threads: int,
               per_thread: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(threads)

    def worker(number: int) -> None:
        gate.wait()
        for turn in range(per_thread):
            view = views[(number + turn) % len(views)]
            try:
                ms = replay(pool, view)
            except Exception as error:  # counted and reported; the run goes on
                with lock:
                    errors.append(f"{view.name}: {type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(ms)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def concurrency_run(pool: db.ReadPool, views: list[View], threads: int,
                    per_thread: int) -> None:
    """Print one concurrency run's figures (see :func:`concurrent`)."""
    client_started = time.process_time()
    latencies, errors, elapsed = concurrent(pool, views, threads, per_thread)
    client_ms = (time.process_time() - client_started) * 1000 / max(1, len(latencies))
    timing = _pct(latencies or [float("nan")])
    print(f"   {pool.view_slots:2} views reading at once: {len(latencies)} views in "
          f"{elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s), p50 {timing[0]:.1f} ms, p95 "
          f"{timing[1]:.1f} ms, max {max(latencies or [0]):.0f} ms, errors {len(errors)}"
          f"{'' if timing[1] < 150 and not errors else ' *'}; this client's CPU "
          f"{client_ms:.1f} ms per view (load {_load()})", flush=True)
    for error in errors[:5]:
        print(f"   error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--raw-repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--views", type=int, default=10, help="page views per thread")
    parser.add_argument("--only", help="only views whose name contains this")
    parser.add_argument("--slots", type=lambda raw: [int(n) for n in raw.split(",")],
                        default=[], help="also run the concurrency with at most so many views "
                        "reading at once, e.g. 4,6,10 (alternately)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --slots")
    parser.add_argument("--statement-target-ms", type=float, default=50.0)
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    print(f"load average (1, 5, 15 min) at start: {_load()}")
    owner = db.make_engine(url, poolclass=NullPool)
    caught_up = rollups.refresh(owner)
    print(f"rollups up to date: {caught_up.describe()}")
    with owner.connect() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": ORG}).scalar_one()
        through_at = freshness.usage_complete_through(connection, org_id)
    owner.dispose()
    _configure(url)
    pool = db.read_pool()
    views: list[View] = []
    for name, page, params in _views(url):
        if options.only and options.only not in name:
            continue
        view = record(name, page, params, options.cold_repeats)
        replay(pool, view)  # warm the plans and the cache
        view.round_trips = round_trips(url, view)
        for _ in range(options.repeats):
            view.reads_ms.append(replay(pool, view, view.statement_ms))
        views.append(view)
        print(f"  recorded {name}: {len(view.snapshots)} snapshots, {view.statements} "
              f"statements (load {_load()})", file=sys.stderr, flush=True)

    print(f"\n1. page views ({options.repeats} replays of each view's reads; cold rerun in "
          f"AppTest, caches cleared, {options.cold_repeats} runs), ms")
    print(f"{'page view':44} {'snaps':>5} {'stmts':>5} {'trips':>5} {'reads p50':>10} "
          f"{'reads p95':>10} {'cold rerun p50':>15}")
    for view in views:
        p50, p95 = _pct(view.reads_ms)
        mark = "" if p95 < 100 else " *"
        print(f"{view.name:44} {len(view.snapshots):5} {view.statements:5} "
              f"{view.round_trips:5} {p50:10.1f} {p95:10.1f} {_pct(view.cold_ms)[0]:15.0f}{mark}")
    print(f"   (trips: round trips to the server of one replay; * a view's reads p95 >= 100 ms)"
          f"\n   summed over the views: reads p50 "
          f"{sum(_pct(view.reads_ms)[0] for view in views):.1f} ms, "
          f"{sum(view.round_trips for view in views)} round trips")

    print(f"\n2. statements per view (summed when a view runs one twice), ms; * p95 >= "
          f"{options.statement_target_ms:.0f}")
    worst = 0.0
    for view in views:
        print(f"  {view.name}")
        for name, samples in view.statement_ms.items():
            p50, p95 = _pct(samples)
            worst = max(worst, p95)
            mark = "" if p95 < options.statement_target_ms else " *"
            print(f"    {name:52} {p50:8.1f} {p95:8.1f}{mark}")
    print(f"   slowest statement p95: {worst:.1f} ms")

    if options.raw_repeats and through_at is not None:
        print(f"\n3. raw baseline, same run ({options.raw_repeats} runs): sums first, then "
              "priced, as the schema owner")
        for label, samples in raw_baseline(url, through_at.date(), options.raw_repeats):
            p50, p95 = _pct(samples)
            print(f"   {label:62} p50 {p50:8.0f} ms, p95 {p95:8.0f} ms")

    if options.threads:
        print(f"\n4. {options.threads} concurrent page views x {options.views} each (the views "
              f"above in turn, read connections {pool.pool_size} + {pool.pool_size} on "
              "overflow)")
        concurrency_run(pool, views, options.threads, options.views)
    if options.slots:
        print(f"\n5. the same with at most so many views reading at once "
              f"(READ_CONCURRENT_VIEWS), alternately, {options.rounds} rounds")
        pools = {slots: db.ReadPool(db.app_replica_urls(), pool_size=pool.pool_size,
                                    statement_timeout_ms=pool.statement_timeout_ms,
                                    concurrent_views=slots)
                 for slots in options.slots}
        for _ in range(options.rounds):
            for slotted in pools.values():
                for view in views:  # its connections opened, its plans prepared
                    replay(slotted, view)
                concurrency_run(slotted, views, options.threads, options.views)
        for slotted in pools.values():
            slotted.dispose()
    print(f"\nload average (1, 5, 15 min) at end: {_load()}")
    pool.dispose()


if __name__ == "__main__":
    main()
