"""Fixtures of the spend pages' AppTests: a billed copy of the small seed, a signed-in page."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
import streamlit as st
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from fleetspend import auth, db, rollups, schema
from fleetspend.billing import invoices
from fleetspend.ui import access, charts
from tests.conftest import create_database, drop_database, engine_for

ADMIN = "admin@acme.example"
MEMBER = "dev@acme.example"
ENGINEER = "support1@fleetspend.example"
OCTOBER_INVOICE = "FS-202610-000001"  # acme's October invoice in the small seed


@pytest.fixture(scope="session")
def spend_template(server_url: str, seeded_template: str) -> Iterator[str]:
    """The small seed with rollups folded, September and October finalized, November drafted."""
    name = f"fleetspend_spend_{uuid.uuid4().hex[:8]}"
    engine = engine_for(create_database(server_url, name, template=seeded_template))
    rollups.refresh(engine)
    for month in (date(2026, 9, 1), date(2026, 10, 1)):
        invoices.finalize_month(engine, month)
    invoices.draft_month(engine, date(2026, 11, 1))
    engine.dispose()
    yield name
    drop_database(server_url, name)


@pytest.fixture
def spend_url(server_url: str, spend_template: str) -> Iterator[str]:
    name = f"fleetspend_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=spend_template)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def spend_engine(spend_url: str) -> Iterator[Engine]:
    engine = engine_for(spend_url)
    yield engine
    engine.dispose()


def _clear() -> None:
    for cached in (db.primary_engine, db.read_engine, db.app_primary_engine, db.read_pool):
        cached.cache_clear()


def run_as(monkeypatch: pytest.MonkeyPatch, url: str, page: str | None, /, email: str = ADMIN,
           **query: str) -> AppTest:
    """A page of the app against a database, signed in (demo mode) as ``email``, not yet run.

    AppTest runs a page picked this way on its own, without app.py's frame; with no page,
    app.py runs, frame and all, and opens the role's landing page."""
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("REPLICA_URLS", "APP_DATABASE_URL", "APP_REPLICA_URLS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv(access.DEMO_MODE_ENV, "1")
    _clear()
    # through app.py, so the navigation exists that drilling down switches pages in
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=60)
    if page is not None:
        app.switch_page(f"pages/{page}.py")
    app.session_state[access.DEMO_PICK_KEY] = email
    # a browser that has drawn charts in this session: what sits below a page's charts comes
    # in the page's run (tests/app/test_explorer.py has a fresh session wait for them)
    app.session_state[charts.CHARTS_DRAWN_KEY] = True
    for name, value in query.items():
        app.query_params[name] = value
    return app


def forget_caches() -> None:
    """Drop the engines and the cached page reads, so the next run starts afresh."""
    _clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def caches_of_this_test_only() -> Iterator[None]:
    """Every test starts with no cached page reads: Streamlit's caches live as long as the
    process, and a loader keyed by scope alone would hand one test the figures another test's
    database gave for the same organization and person (seen: $192.32 from the billed copy in
    the spend copy's overview)."""
    forget_caches()
    yield
    forget_caches()


@pytest.fixture
def open_page(monkeypatch) -> Iterator[Callable[..., AppTest]]:
    """Run a page of the app against a database, signed in (demo mode) as someone."""

    def open_page(url: str, page: str, /, email: str = ADMIN, **query: str) -> AppTest:
        return run_as(monkeypatch, url, page, email=email, **query)

    return open_page


def acme_org_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("select org_id from organizations where slug = 'acme'")
                                  ).scalar_one()


# the invoices whose cents the pages show for whole months of [start, end)
_SHOWN_INVOICES = """
select invoices.invoice_id, invoices.period_start_date
from invoices
join month_figures using (org_id, invoice_id)
where invoices.org_id = :org
  and invoices.period_start_date >= cast(:start as date)
  and invoices.period_start_date + interval '1 month' <= cast(:end as date)
"""


def shown_cents(engine: Engine, org_id: int, start: date, end: date) -> int:
    """What the pages show for [start, end), computed apart from them (fleetspend/figures.py):
    each month the range covers whole whose invoice the pages carry at that invoice's
    subtotal (its lines' cents), the other days' rated usage rounded once."""
    with engine.connect() as connection:
        return connection.execute(text(f"""
            with shown as ({_SHOWN_INVOICES})
            select coalesce((select sum(subtotal_cents) from invoices
                             where invoice_id in (select invoice_id from shown)), 0)
                 + coalesce((select round(sum(amount_precise) * 100) from rated_usage
                             where org_id = :org
                               and hour_at >= cast(:start as date)::timestamp at time zone 'UTC'
                               and hour_at < cast(:end as date)::timestamp at time zone 'UTC'
                               and cast(date_trunc('month', hour_at at time zone 'UTC') as date)
                                   not in (select period_start_date from shown)), 0)
            """), {"org": org_id, "start": start, "end": end}).scalar_one()


def raw_cents(engine: Engine, org_id: int, start: date, end: date) -> int:
    with engine.connect() as connection:
        return connection.execute(text(
            "select cast(round(sum(amount_precise) * 100) as bigint) from rated_usage "
            "where org_id = :org and hour_at >= cast(:start as date)::timestamp at time zone "
            "'UTC' and hour_at < cast(:end as date)::timestamp at time zone 'UTC'"),
            {"org": org_id, "start": start, "end": end}).scalar_one()


def drawn_charts(app: AppTest) -> list[tuple[str, dict]]:
    """The charts the page drew, in order, as (element id, Plotly figure): those of the app's
    chart component (fleetspend.ui.charts.draw) and those Streamlit draws (the treemap)."""
    drawn = []
    for element in app.get("bidi_component"):
        assert element.proto.component_name == "fleetspend.plotly_chart"
        drawn.append((element.proto.id, json.loads(json.loads(element.proto.json)["figure"])))
    drawn += [(chart.proto.id, json.loads(chart.proto.spec)) for chart in app.get("plotly_chart")]
    return drawn


def as_read(markdown: str) -> str:
    """Markdown source as the person reads it: backslash escapes undone (names and values
    reach the page escaped, see fleetspend.ui.untrusted)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def open_grant(url: str, slug: str = "acme") -> auth.SupportGrant:
    """An hour's support grant of the engineer on organization ``slug``."""
    app = engine_for(db.as_app_role(url))
    try:
        with app.connect() as connection:
            caller = auth.identify(connection, ENGINEER)
        assert caller is not None
        return auth.open_support_access(app, caller, org_slug=slug, ticket="T-88",
                                        reason="customer disputes October",
                                        duration=timedelta(hours=1))
    finally:
        app.dispose()


def every_page(engine: Engine, grant_id: int) -> list[tuple[str, str, dict[str, str]]]:
    """Every page of the app, as who may open it, with the parameters that make it show what
    it shows (acme's October invoice, its biggest machine, that machine's app and team):
    (page, email, query)."""
    with engine.connect() as connection:
        machine, app_id, team_id = connection.execute(text(
            "select allocations.resource_id, machines.app_id, apps.team_id "
            "from invoice_allocations as allocations "
            "join invoices using (org_id, invoice_id) "
            "join machines on machines.org_id = allocations.org_id "
            "and machines.machine_id = allocations.resource_id "
            "join apps on apps.org_id = machines.org_id and apps.app_id = machines.app_id "
            "where invoice_number = :number and allocations.resource_kind = 'machine' "
            "order by allocations.amount_cents desc limit 1"),
            {"number": OCTOBER_INVOICE}).one()
    invoice = {"invoice": OCTOBER_INVOICE}
    october = {"from": "2026-10-01", "to": "2026-10-31"}
    grant = {"grant": str(grant_id)}
    return [
        ("overview", ADMIN, {}), ("members", ADMIN, {}),
        ("explorer", ADMIN, {**october, "by": "app"}),
        ("explorer", ADMIN, {**october, "by": "team", "by2": "app"}),
        ("teams", ADMIN, october), ("teams", ADMIN, {**october, "team": str(team_id)}),
        ("invoices", ADMIN, {}), ("invoice", ADMIN, invoice),
        ("invoice_apps", ADMIN, {**invoice, "by": "product", "key": "machine_runtime"}),
        ("invoice_machines", ADMIN, {**invoice, "app": str(app_id)}),
        ("machine", ADMIN, {**invoice, "machine": machine, "app": str(app_id)}),
        ("support_access_log", ADMIN, {}),
        ("support", ENGINEER, {}), ("support_search", ENGINEER, {"q": "acme"}),
        ("support_audit", ENGINEER, {}), ("dispute", ENGINEER, {**invoice, **grant}),
        ("invoices", ENGINEER, grant),
        ("budgets", ADMIN, {}), ("alerts", ADMIN, {}), ("alert", ADMIN, {"alert": "1"}),
        ("alert_settings", ADMIN, {}), ("budgets", ENGINEER, grant),
    ]
