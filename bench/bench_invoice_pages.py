"""Benchmark of the invoice drill-down's reads at the large scale, level by level.

    uv run python bench/bench_invoice_pages.py [--repeats 40]

The database is BENCH_DATABASE_URL (migrated, seeded at the large scale and invoiced: the
months before the seed's last one finalized, the last one drafted), or else a throw-away
embedded server that this script migrates, seeds with ``generate(scale='large')`` and
invoices, which takes several minutes. Reads go exactly as the pages make them: through the
read pool as the app's role (row-level security on), one read-only snapshot per page view, as
``northwind``'s admin (10,000 machines), on its last finalized invoice.

Printed, all measured in this run, p50 and p95 over ``--repeats`` page views per level,
after an empty page view (the cost of a snapshot alone) as the floor:

1. the invoices list;
2. the invoice page (header, lines, credit notes);
3. the apps behind the machine runtime lines (their total and the apps);
4. the machine list of the whole invoice (every machine and volume, about 10,000): the first
   page by amount, a deep page by id, an id-prefix search and an app-name search, and the list
   of one app; beside it the baseline of paginating in the client (every allocation of the
   invoice read and summed in pandas, then sorted and sliced), with the ratio of medians;
5. the machine page of the dearest machine (identity, invoices, charges with the price book,
   its row on the list, runs, events and a month of hourly usage).

The tables read are analyzed first, as autovacuum does shortly after a billing run. Target
(issue 7): p95 under 50 ms at every level, the machine list included. The load average is
printed beside the figures: on a shared 2-core machine, other work inflates them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from fleetspend import auth, db, embedded, schema
from fleetspend.reads import invoice_drill
from fleetspend.reads.invoice_drill import Group

BIG_ORG = "northwind"
TARGET_P95_MS = 50.0

ANALYZE = ("analyze invoices, invoice_lines, invoice_allocations, credit_notes, apps, teams, "
           "machines, volumes, machine_runs, machine_events")

ALL_ALLOCATIONS = text("""
    select resource_kind, resource_id, app_id, amount_cents
    from invoice_allocations
    where org_id = :org_id and invoice_id = :invoice_id
""")


def _prepare(url: str) -> None:
    """Migrate and seed at the large scale; the seed invoices every month of its window."""
    from fleetspend.seed import generate

    engine = db.make_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    schema.upgrade(engine)
    generate(engine, scale="large", seed=1)
    print(f"seeded and invoiced the large scale in {time.perf_counter() - started:.0f} s",
          flush=True)
    engine.dispose()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _admin_scope(engine: Engine, org: str) -> tuple[int, db.Scope]:
    with engine.connect() as connection:
        org_id = connection.execute(text("select org_id from organizations where slug = :slug"),
                                    {"slug": org}).scalar_one()
        caller = auth.identify(connection, f"admin@{org}.example")
    assert caller is not None, f"the seed has no admin of {org}"
    return org_id, auth.scope_for(caller, org_id=org_id)


def _time(pool: db.ReadPool, scope: db.Scope, view: Callable, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        with pool.snapshot(scope) as snapshot:
            view(snapshot.connection)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--org", default=BIG_ORG, help="the organization's slug")
    args = parser.parse_args()

    server = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        server = embedded.temporary_server()
        server.start()
        server.create_database("bench")
        url = server.url("bench")
        _prepare(url)
    try:
        run(url, args.org, args.repeats)
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


def run(url: str, org: str, repeats: int) -> None:
    owner = db.make_engine(url, poolclass=NullPool)
    org_id, scope = _admin_scope(owner, org)
    # fresh statistics, as autovacuum leaves them a minute after a billing run; without them a
    # just-written invoice's allocations are planned as one row (nested loops, seconds)
    with owner.begin() as connection:
        connection.exec_driver_sql(ANALYZE)
    with owner.connect() as connection:
        invoice_number = connection.execute(text(
            "select invoice_number from invoices where org_id = :org_id and status <> 'draft' "
            "order by period_start_date desc limit 1"), {"org_id": org_id}).scalar_one()
        sizes = connection.execute(text("""
            select count(distinct invoice_allocations.resource_id) as resources,
                   count(*) as allocations,
                   (select count(*) from invoice_lines
                    where invoice_lines.org_id = invoices.org_id
                      and invoice_lines.invoice_id = invoices.invoice_id) as lines
            from invoices
            join invoice_allocations using (org_id, invoice_id)
            where invoices.org_id = :org_id and invoices.invoice_number = :number
            group by invoices.org_id, invoices.invoice_id
        """), {"org_id": org_id, "number": invoice_number}).one()
    owner.dispose()
    pool = db.ReadPool([db.as_app_role(url)], pool_size=2)

    with pool.snapshot(scope) as snapshot:
        invoice = invoice_drill.invoice(snapshot.connection, org_id, invoice_number)
        assert invoice is not None
        dearest = invoice_drill.group_resources(snapshot.connection, org_id, invoice.invoice_id,
                                                Group("invoice"), page_size=1).rows.iloc[0]
        apps = invoice_drill.group_apps(snapshot.connection, org_id, invoice.invoice_id,
                                        Group("invoice"))
    invoice_id = invoice.invoice_id
    machine_id = dearest["resource_id"]
    busiest_app = int(apps["app_id"].iloc[0])
    app_word = str(apps["app_name"].iloc[0]).split("-")[0]
    runtime = Group("product", "machine_runtime")
    whole = Group("invoice")
    deep_page = 100

    def machine_page(connection) -> None:
        invoice_drill.machine(connection, org_id, machine_id)
        invoice_drill.machine_invoices(connection, org_id, machine_id)
        invoice_drill.invoice(connection, org_id, invoice_number)
        invoice_drill.group_total(connection, org_id, invoice_id, runtime)
        charges = invoice_drill.machine_charges(connection, org_id, machine_id, invoice_id,
                                                runtime)
        invoice_drill.group_resources(connection, org_id, invoice_id, runtime,
                                      search=machine_id)
        invoice_drill.machine_runs(connection, org_id, machine_id, invoice.period)
        invoice_drill.machine_events(connection, org_id, machine_id, invoice.period)
        invoice_drill.machine_hourly_usage(connection, org_id, machine_id, invoice.period)
        assert len(charges)

    def client_side_page(connection) -> None:
        frame = pd.DataFrame(connection.execute(ALL_ALLOCATIONS, {
            "org_id": org_id, "invoice_id": invoice_id}).mappings().all())
        summed = frame.groupby(["resource_kind", "resource_id", "app_id"], as_index=False)[
            "amount_cents"].sum()
        summed.sort_values(["amount_cents", "resource_id"], ascending=[False, True]).head(
            invoice_drill.PAGE_SIZE)

    levels: list[tuple[str, Callable]] = [
        ("0 empty page view (snapshot, scope, select 1)",
         lambda c: c.execute(text("select 1")).scalar()),
        ("1 invoices list", lambda c: invoice_drill.invoices(c, org_id)),
        ("2 invoice page (header, lines, credits)", lambda c: (
            invoice_drill.invoice(c, org_id, invoice_number),
            invoice_drill.invoice_lines(c, org_id, invoice_id),
            invoice_drill.credit_notes(c, org_id, invoice_id))),
        ("3 apps of machine runtime lines", lambda c: (
            invoice_drill.group_total(c, org_id, invoice_id, runtime),
            invoice_drill.group_apps(c, org_id, invoice_id, runtime))),
        ("4 machine list, page 1 by amount", lambda c: invoice_drill.group_resources(
            c, org_id, invoice_id, whole)),
        (f"4 machine list, page {deep_page} by id", lambda c: invoice_drill.group_resources(
            c, org_id, invoice_id, whole, sort="resource", page=deep_page)),
        ("4 machine list, id prefix search", lambda c: invoice_drill.group_resources(
            c, org_id, invoice_id, whole, search=machine_id[:2])),
        (f"4 machine list, app search {app_word!r}", lambda c: invoice_drill.group_resources(
            c, org_id, invoice_id, whole, search=app_word, sort="app")),
        ("4 machine list of one app (runtime)", lambda c: (
            invoice_drill.group_app_total(c, org_id, invoice_id, runtime, busiest_app),
            invoice_drill.group_resources(c, org_id, invoice_id, runtime, app_id=busiest_app))),
        ("5 machine page", machine_page),
    ]
    print(f"invoice drill-down: {org}, invoice {invoice_number}: "
          f"{sizes.lines:,} lines, {sizes.allocations:,} allocations, {sizes.resources:,} "
          f"machines and volumes; {repeats} page views per level, app role with RLS, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}")
    for _, view in levels:  # warm the caches once
        _time(pool, scope, view, 2)
    print(f"{'level':46} {'p50 ms':>8} {'p95 ms':>8}  target p95 < {TARGET_P95_MS:.0f} ms")
    medians = {}
    for name, view in levels:
        p50, p95 = _percentiles(_time(pool, scope, view, repeats))
        medians[name] = p50
        verdict = "ok" if p95 < TARGET_P95_MS else "OVER"
        print(f"{name:46} {p50:8.1f} {p95:8.1f}  {verdict}")
    p50, p95 = _percentiles(_time(pool, scope, client_side_page, max(5, repeats // 4)))
    ours = medians["4 machine list, page 1 by amount"]
    print(f"{'baseline: page 1 paginated in the client':46} {p50:8.1f} {p95:8.1f}  "
          f"(SQL pagination is {p50 / ours:.1f}x faster at the median)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    pool.dispose()


if __name__ == "__main__":
    main()
