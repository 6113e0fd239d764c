"""Benchmark of the spend pages at the large scale: each page's full rerun time in AppTest.

    uv run python bench/bench_pages.py [--repeats 10]

The database is BENCH_DATABASE_URL, already migrated, seeded at the large scale (northwind:
10,000 machines x 90 days, beside five smaller organizations), its rollups folded and its
months invoiced (August to October finalized, November drafted); or else a throw-away
embedded server that this script prepares that way, which takes a long while.

For every page view (the overview, and the explorer in several states) it prints, over
``--repeats`` runs, signed in as northwind's admin (demo mode):

- cold: a full rerun of the page with Streamlit's data caches cleared first, so every query
  runs (what a person sees on the first view or after the cache's 60 s TTL);
- warm: a full rerun served from the caches (any click that does not change the data);
- baseline, measured in the same run: the page's reads alone (one snapshot, the same
  queries, no Streamlit), and the ratio cold / baseline, which is what drawing the page
  (charts, tables, anomaly search, serialization) adds on top of the database.

Target (issue 6): a cold full rerun under 1 s per page on this machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.pool import NullPool
from streamlit.testing.v1 import AppTest

from fleetspend import db, embedded, rollups, schema
from fleetspend.billing import invoices
from fleetspend.reads import spend_overview, usage_explorer
from fleetspend.reads.dimensions import DIMENSIONS

# the pages run in AppTest and their loaders are called bare here, so Streamlit warns on every
# call that it has no runtime ("No runtime found", "missing ScriptRunContext"): expected, and
# they buried the figures (this and bench_page_views.py, bench_views_ab.py, which import it)
logging.disable(logging.WARNING)

from fleetspend.ui import access  # noqa: E402 (its caches warn as they are made)

ORG = "northwind"
ADMIN = f"admin@{ORG}.example"
FINALIZED_MONTHS = (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1))
DRAFT_MONTH = date(2026, 11, 1)
# page views: (name, page file, query parameters)
VIEWS = [
    ("overview", "overview", {}),
    ("explorer: 30 days by app, daily", "explorer", {}),
    ("explorer: 90 days team x region, weekly", "explorer",
     {"from": "2026-08-28", "to": "2026-11-25", "by": "team", "by2": "region",
      "grain": "week"}),
    ("explorer: 90 days by continent, monthly", "explorer",
     {"from": "2026-08-28", "to": "2026-11-25", "by": "continent", "grain": "month"}),
    ("explorer: machine-hours by VM size, Europe", "explorer",
     {"measure": "machine_hours", "by": "preset", "continent": "Europe"}),
]


def prepare(url: str) -> None:
    """Migrate, seed at the large scale, fold the rollups and invoice the months."""
    from fleetspend.seed import generate

    engine = db.make_engine(url, poolclass=NullPool)
    schema.upgrade(engine)
    generate(engine, scale="large", seed=1)
    rollups.refresh(engine)
    for month in FINALIZED_MONTHS:
        invoices.finalize_month(engine, month)
    invoices.draft_month(engine, DRAFT_MONTH)
    engine.dispose()


def _configure(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    for name in ("REPLICA_URLS", "APP_DATABASE_URL", "APP_REPLICA_URLS"):
        os.environ[name] = ""
    os.environ[access.DEMO_MODE_ENV] = "1"


def _open(page: str, params: dict[str, str]) -> AppTest:
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=120)
    app.switch_page(f"pages/{page}.py")
    app.session_state[access.DEMO_PICK_KEY] = ADMIN
    for name, value in params.items():
        app.query_params[name] = value
    return app


def _clear_caches() -> None:
    from streamlit.runtime.caching import cache_data_api

    cache_data_api.CacheDataAPI.clear(None)  # type: ignore[arg-type]


def _time(action: Callable[[], object], repeats: int,
          before: Callable[[], None] = lambda: None) -> list[float]:
    samples = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def _baseline(url: str, page: str, params: dict[str, str]) -> Callable[[], object]:
    """The page's reads alone, as the app's role in one snapshot, without Streamlit."""
    owner = db.make_engine(url, poolclass=NullPool)
    with owner.connect() as connection:
        org_id, user_id = connection.execute(text(
            "select organizations.org_id, users.user_id from organizations, users "
            "where organizations.slug = :slug and users.email = :email"),
            {"slug": ORG, "email": ADMIN}).one()
        values = usage_explorer.read_dimension_values(connection, org_id)
    owner.dispose()
    scope = db.Scope(org_ids=(org_id,), user_id=user_id)
    if page == "overview":
        def read() -> object:
            with db.read_snapshot(scope) as snapshot:
                return spend_overview.read_overview(snapshot.connection, org_id,
                                                    may_see_invoices=True)
        return read
    last_day = date(2026, 11, 25)
    start = date.fromisoformat(params.get("from", "2026-10-27"))
    end = date.fromisoformat(params.get("to", last_day.isoformat()))
    filters = tuple((dimension, tuple(key for key, label in values[dimension].items()
                                      if label == params[dimension] or key == params[dimension]))
                    for dimension in DIMENSIONS if dimension in params)
    query = usage_explorer.ExplorerQuery(params.get("measure", "spend"), params.get("by", "app"),
                                params.get("by2", "none"), params.get("grain", "day"), start,
                                date.fromordinal(end.toordinal() + 1), filters)

    def read_explorer() -> object:
        with db.read_snapshot(scope) as snapshot:
            usage_explorer.read_cells(snapshot.connection, org_id, query, 8)
            return usage_explorer.read_cells(snapshot.connection, org_id, query.previous, None,
                                    with_cells=False)
    return read_explorer


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(samples) * 1000, p95 * 1000


def run(url: str, repeats: int) -> bool:
    _configure(url)
    print(f"{'page view':46} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} "
          f"{'reads p50':>10} {'cold/reads':>10}")
    all_fast = True
    for name, page, params in VIEWS:
        app = _open(page, params).run()  # imports, pools, first compile
        if app.exception:
            raise RuntimeError(f"{name}: {app.exception}")
        cold = _time(app.run, repeats, before=_clear_caches)
        warm = _time(app.run, repeats)
        reads = _time(_baseline(url, page, params), repeats)
        cold_p50, cold_p95 = _ms(cold)
        warm_p50, _ = _ms(warm)
        reads_p50, _ = _ms(reads)
        all_fast &= cold_p50 < 1000
        print(f"{name:46} {cold_p50:8.0f}ms {cold_p95:8.0f}ms {warm_p50:8.0f}ms "
              f"{reads_p50:9.0f}ms {cold_p50 / reads_p50:9.1f}x")
    print("target: cold full rerun < 1000 ms per page:", "met" if all_fast else "NOT met")
    return all_fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        run(url, args.repeats)
        return
    server = embedded.temporary_server()
    server.start()
    try:
        server.create_database("bench_pages")
        url = server.url("bench_pages")
        print("preparing the large scale (seed, rollups, invoices); this takes a while")
        prepare(url)
        run(url, args.repeats)
    finally:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
