"""Access follows the accounts, page view by page view (AppTest, real PostgreSQL).

People sign in as OpenID Connect would (``st.user``): demo mode refuses a database whose
organizations the seed did not create. Between two runs of the same session, an accounts
file is imported: a removed member, and everyone of a closed organization, is refused at
the next run; a person added sees the organization at the next run. The database refuses
them too, not only the pages: the app's role reads nothing of the organization for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from fleetspend import db, schema
from fleetspend.billing.invoices import draft_month
from fleetspend.ingest import ingest_file
from fleetspend.ui import access
from tests.app.conftest import forget_caches
from tests.conftest import engine_for
from tests.db.test_accounts import FIRST, LATER, WEEK

ADA = "ada@lumen.example"  # admin
BEN = "ben@lumen.example"  # member, removed by the later file
CY = "cy@lumen.example"
NOT_A_MEMBER = "You are not a member of any organization"


@pytest.fixture
def lumen(database_url: str, monkeypatch) -> Iterator[str]:
    """The worked example's organization with its week of usage, November drafted; the app
    pointed at it, demo mode off."""
    engine = engine_for(database_url)
    ingest_file(engine, FIRST)
    ingest_file(engine, WEEK)
    draft_month(engine, date(2026, 11, 1))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("REPLICA_URLS", "APP_DATABASE_URL", "APP_REPLICA_URLS", access.DEMO_MODE_ENV):
        monkeypatch.setenv(name, "")
    forget_caches()
    yield database_url


@pytest.fixture
def importing(lumen: str, tmp_path: Path) -> Callable[..., None]:
    """Import a file, or records written as one, into the app's database."""

    def run(source: Path | list[dict]) -> None:
        if isinstance(source, list):
            path = tmp_path / f"accounts-{len(list(tmp_path.iterdir()))}.jsonl"
            path.write_text("".join(json.dumps(record) + "\n" for record in source))
            source = path
        engine = engine_for(lumen)
        try:
            ingest_file(engine, source)
        finally:
            engine.dispose()

    return run


def signed_in(email: str, page: str | None = None) -> AppTest:
    """A new session of ``email``, run once. Running it again is the next page view (AppTest
    keeps the sidebar of a session's first run only: later runs are judged by the page)."""
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=60)
    if page is not None:
        app.switch_page(f"pages/{page}.py")
    app.user = {"is_logged_in": True, "email": email, "email_verified": True}
    return app.run()


def organizations(app: AppTest) -> list[str]:
    pickers = [box for box in app.sidebar.selectbox if box.key == "frame_org"]
    return list(pickers[0].options) if pickers else []


def refusals(app: AppTest) -> list[str]:
    return [error.value for error in app.error]


def visible_to_app_role(url: str, email: str) -> int:
    """How many organizations the database lets the app's role read for ``email``."""
    engine = engine_for(db.as_app_role(url))
    try:
        with engine.begin() as connection:
            user_id = connection.execute(text("select actor_id from fleetspend_auth.identify("
                                              ":email)"), {"email": email}).scalar_one()
            db.set_local(connection, {"fleetspend.user_id": str(user_id)})
            return connection.execute(text("select count(*) from organizations")).scalar_one()
    finally:
        engine.dispose()


def test_a_removed_member_is_refused_at_the_next_page_view(lumen, importing):
    ben = signed_in(BEN)
    assert organizations(ben) == ["Lumen Labs (member)"]
    assert ben.title[0].value == "Spend overview" and not refusals(ben) and ben.metric
    assert visible_to_app_role(lumen, BEN) == 1

    importing(LATER)  # removes Ben as of 2026-11-20
    ben.run()
    assert any(NOT_A_MEMBER in refusal for refusal in refusals(ben))
    assert not ben.metric and not ben.dataframe
    assert visible_to_app_role(lumen, BEN) == 0
    assert organizations(signed_in(BEN)) == []
    # and the admin, still a member, goes on
    assert organizations(signed_in(ADA)) == ["Lumen Labs (admin)"]


def test_a_person_added_sees_the_organization_at_the_next_page_view(lumen, importing):
    importing([{"record": "user", "email": CY, "name": "Cy Park"}])
    cy = signed_in(CY)
    assert organizations(cy) == []
    assert any(NOT_A_MEMBER in refusal for refusal in refusals(cy))

    importing([{"record": "membership", "org": "lumen-labs", "email": CY, "role": "admin",
                "joined_at": "2026-11-25T00:00:00Z"}])
    cy.run()
    assert cy.title[0].value == "Spend overview" and not refusals(cy)
    assert cy.metric and visible_to_app_role(lumen, CY) == 1
    assert organizations(signed_in(CY)) == ["Lumen Labs (admin)"]


def test_everyone_of_a_closed_organization_is_refused_at_the_next_page_view(lumen, importing):
    ada = signed_in(ADA, "invoices")
    assert not refusals(ada) and ada.dataframe
    importing([{"record": "organization", "org": "lumen-labs", "name": "Lumen Labs",
                "created_at": "2026-10-15T09:00:00Z", "closed_at": "2026-12-01T00:00:00Z"}])
    ada.run()
    assert any(NOT_A_MEMBER in refusal for refusal in refusals(ada))
    assert not ada.dataframe
    assert visible_to_app_role(lumen, ADA) == 0
    assert organizations(signed_in(ADA)) == []
