"""AppTest runs of every page as each role: what each is shown, and what each is refused.

The app reads as its own database role (fleetspend_app) under row-level security, so what a
page shows here is what the database let that person see. Demo mode signs people in by
session state; one test signs in through st.user as OpenID Connect would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from fleetspend import auth, db, schema
from fleetspend.billing.invoices import finalize_month
from fleetspend.ui import access
from tests.app.conftest import as_read

MEMBER = "dev@acme.example"
ADMIN = "admin@acme.example"
ENGINEER = "support1@fleetspend.example"
PAGES = ("overview", "members", "invoices", "support_access_log", "support")
ROLE_REFUSED = "Your role does not give you access to this page."
GRANT_NEEDED = "Support engineers see an organization only under an active support grant"


def _clear_engines() -> None:
    for cached in (db.primary_engine, db.read_engine, db.app_primary_engine, db.read_pool):
        cached.cache_clear()


@pytest.fixture
def configure(monkeypatch) -> Iterator[Callable[..., None]]:
    """Point the app at a database, demo mode on unless told otherwise."""

    def configure_app(url: str, *, demo: bool = True, **extra: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        for name in ("REPLICA_URLS", "APP_DATABASE_URL", "APP_REPLICA_URLS"):
            monkeypatch.setenv(name, extra.get(name, ""))
        monkeypatch.setenv(access.DEMO_MODE_ENV, "1" if demo else "")
        _clear_engines()

    yield configure_app
    _clear_engines()


@pytest.fixture
def billed(seeded_database_url: str, seeded_engine: Engine) -> str:
    """The small seed with October invoiced, so the invoice pages have something to show."""
    finalize_month(seeded_engine, date(2026, 10, 1))
    return seeded_database_url


def _run(target: str, email: str | None = None, **query: str) -> AppTest:
    path = "app.py" if target == "app" else f"pages/{target}.py"
    app = AppTest.from_file(str(schema.PROJECT_ROOT / path), default_timeout=30)
    if email:
        app.session_state[access.DEMO_PICK_KEY] = email
    for name, value in query.items():
        app.query_params[name] = value
    return app.run()


def _texts(app: AppTest) -> str:
    parts = [element.value for kind in ("title", "subheader", "error", "info", "warning",
                                        "caption", "markdown", "text")
             for element in getattr(app, kind)]
    return "\n".join(str(part) for part in parts)


def _column(app: AppTest, index: int, column: str) -> list:
    return list(app.dataframe[index].value[column])


def _organizations(app: AppTest) -> list[str]:
    """The organizations the frame's picker offers, as "name (role)"."""
    return list(app.sidebar.selectbox(key="frame_org").options)


def _open_grant(engine: Engine, slug: str = "acme") -> auth.SupportGrant:
    with engine.connect() as connection:
        staff = connection.execute(text(
            "select staff_user_id, name from staff_users where email = :email"),
            {"email": ENGINEER}).one()
    caller = auth.Caller("staff", staff.staff_user_id, staff.name, ENGINEER)
    return auth.open_support_access(db.app_primary_engine(), caller, org_slug=slug,
                                    ticket="T-77", reason="invoice dispute",
                                    duration=timedelta(hours=1))


# --- customers -------------------------------------------------------------------------------


def test_a_member_sees_only_their_organization_and_no_admin_pages(configure, billed,
                                                                  seeded_engine):
    configure(billed)
    app = _run("app", MEMBER)
    assert not app.exception
    assert app.title[0].value == "Spend overview"
    assert _organizations(app) == ["Acme Corporation (member)"]
    assert app.sidebar.text[0].value.startswith("Acme")
    for page in ("members", "invoices", "support_access_log", "support"):
        refused = _run(page, MEMBER)
        assert not refused.exception
        assert refused.error[0].value == ROLE_REFUSED, page
        assert len(refused.dataframe) == 0


def test_an_admin_sees_teams_members_invoices_and_the_support_log(configure, billed,
                                                                 seeded_engine):
    configure(billed)
    grant = _open_grant(seeded_engine)
    with seeded_engine.connect() as connection:
        acme = connection.execute(text("select org_id from organizations where slug = 'acme'")
                                  ).scalar()
        teams = connection.execute(text("select name from teams where org_id = :org "
                                        "order by name"), {"org": acme}).scalars().all()
        emails = connection.execute(text(
            "select email from users join memberships using (user_id) where org_id = :org"),
            {"org": acme}).scalars().all()
        invoice_numbers = connection.execute(text(
            "select invoice_number from invoices where org_id = :org"), {"org": acme}
        ).scalars().all()

    members = _run("members", ADMIN)
    assert not members.exception
    assert _column(members, 0, "name") == teams
    assert sorted(_column(members, 1, "email")) == sorted(emails)

    invoices = _run("invoices", ADMIN)
    assert not invoices.exception and len(invoices.error) == 0
    assert sorted(_column(invoices, 0, "invoice_number")) == sorted(invoice_numbers) != []

    log = _run("support_access_log", ADMIN)
    assert _column(log, 0, "support_ticket") == ["T-77"]
    assert _column(log, 0, "reason") == ["invoice dispute"]
    assert _column(log, 0, "engineer_email") == [ENGINEER]
    assert grant.org_id == acme

    assert _run("support", ADMIN).error[0].value == ROLE_REFUSED


def test_another_orgs_admin_sees_none_of_acme(configure, billed):
    configure(billed)
    app = _run("app", "admin@globex.example", org="acme")  # a link naming someone else's org
    assert _organizations(app) == ["Globex (admin)"]
    invoices = _run("invoices", "admin@globex.example", org="acme")
    assert all(not number.startswith("ACME") for number in _column(invoices, 0,
                                                                    "invoice_number"))


# --- support engineers -----------------------------------------------------------------------


def test_an_engineer_without_a_grant_sees_no_organization(configure, billed):
    configure(billed)
    console = _run("app", ENGINEER)
    assert not console.exception
    assert console.title[0].value == "Support access"
    for page in ("overview", "members", "invoices"):
        refused = _run(page, ENGINEER)
        assert refused.error[0].value.startswith(GRANT_NEEDED), page
        assert len(refused.dataframe) == 0
    assert _run("support_access_log", ENGINEER).error[0].value == ROLE_REFUSED


def test_an_engineer_under_a_grant_sees_that_org_and_every_view_is_audited(configure, billed,
                                                                           seeded_engine):
    configure(billed)
    grant = _open_grant(seeded_engine)
    overview = _run("overview", ENGINEER, grant=str(grant.grant_id))
    assert not overview.exception and len(overview.error) == 0
    assert overview.title[0].value == "Spend overview"
    assert len(overview.metric) > 0
    invoices = _run("invoices", ENGINEER, grant=str(grant.grant_id))
    assert _column(invoices, 0, "invoice_number") != []
    assert _run("support_access_log", ENGINEER, grant=str(grant.grant_id)).error[0].value == (
        ROLE_REFUSED)
    with seeded_engine.connect() as connection:
        viewed = connection.execute(text(
            "select detail ->> 'page' from audit_events where action = :action "
            "and (detail ->> 'grant_id')::bigint = :grant order by audit_event_id"),
            {"action": auth.PAGE_VIEWED, "grant": grant.grant_id}).scalars().all()
    assert viewed == ["overview", "invoices"]


def test_opening_access_from_the_console_works_under_the_new_grant(configure, billed,
                                                                   seeded_engine):
    configure(billed)
    app = _run("app", ENGINEER)
    app.text_input(key="support_org_slug").input("globex")
    app.text_input(key="support_ticket").input("T-9")
    app.text_area(key="support_reason").input("egress looks wrong")
    app.button[0].click().run()
    assert not app.exception
    with seeded_engine.connect() as connection:
        grant = connection.execute(text(
            "select grant_id, org_id, support_ticket from support_grants")).one()
        audit = connection.execute(text(
            "select action from audit_events where org_id = :org"), {"org": grant.org_id}
        ).scalars().all()
    assert grant.support_ticket == "T-9"
    assert audit == [auth.ACCESS_OPENED]
    assert app.query_params[access.GRANT_PARAM] == str(grant.grant_id)
    # (AppTest reruns only the page after the first run, so the frame is checked afresh)
    again = _run("app", ENGINEER, grant=str(grant.grant_id))
    picker = again.sidebar.selectbox(key="frame_grant")
    assert picker.value == grant.grant_id
    with seeded_engine.connect() as connection:
        name = connection.execute(text("select name from organizations where org_id = :org"),
                                  {"org": grant.org_id}).scalar_one()
    assert picker.options[1] == f"{name} (T-9)"  # the name, not the id
    # the grant in full beneath: organization, ticket and the whole end time (UTC)
    expires = f"{grant_row(seeded_engine).expires_at:%Y-%m-%d %H:%M} UTC"
    assert any(as_read(caption.value) == f"{name}, ticket T-9, until {expires}"
               for caption in again.sidebar.caption)
    # signed in again (a new session, a URL without the grant): the active grant is picked
    fresh = _run("app", ENGINEER)
    assert fresh.sidebar.selectbox(key="frame_grant").value == grant.grant_id


def grant_row(engine):
    with engine.connect() as connection:
        return connection.execute(text("select expires_at from support_grants")).one()


def test_an_unknown_org_slug_opens_nothing(configure, billed, seeded_engine):
    configure(billed)
    app = _run("support", ENGINEER)
    app.text_input(key="support_org_slug").input("nope")
    app.text_input(key="support_ticket").input("T-9")
    app.text_area(key="support_reason").input("why not")
    app.button[0].click().run()
    assert "no organization with the slug 'nope'" in app.error[0].value
    with seeded_engine.connect() as connection:
        assert connection.execute(text("select count(*) from support_grants")).scalar() == 0


def test_when_the_audit_write_fails_no_data_is_shown(configure, billed, seeded_engine):
    configure(billed)
    grant = _open_grant(seeded_engine)
    broken_primary = db.as_app_role(
        make_url(billed).set(database="no_such_database").render_as_string(False))
    configure(billed, APP_DATABASE_URL=broken_primary,
              APP_REPLICA_URLS=db.as_app_role(billed))
    page = _run("overview", ENGINEER, grant=str(grant.grant_id))
    assert not page.exception
    assert "could not be recorded in the audit log" in page.error[0].value
    assert len(page.dataframe) == 0 and len(page.metric) == 0


# --- signing in ------------------------------------------------------------------------------


def test_nobody_signed_in_gets_the_sign_in_page_and_every_page_refuses(configure, billed):
    configure(billed)
    app = _run("app")
    assert app.title[0].value == "Sign in to fleetspend"
    assert "Developer of acme" in app.selectbox(key="sign_in_person").options
    for page in PAGES:
        refused = _run(page)
        assert refused.error[0].value == "Sign in to see this page.", page
        assert len(refused.dataframe) == 0


def test_picking_a_person_in_demo_mode_signs_in_with_a_banner_on_every_page(configure, billed):
    configure(billed)
    app = _run("app")
    assert app.warning[0].value.startswith("Demo mode")
    app.selectbox(key="sign_in_person").select(ADMIN).run()
    app.button(key="sign_in_continue").click().run()
    assert not app.exception
    assert app.session_state[access.DEMO_PICK_KEY] == ADMIN
    for page in ("app", *PAGES[:-1]):
        shown = _run(page, ADMIN)
        assert shown.warning[0].value.startswith("Demo mode"), page
    assert _run("app", ADMIN).title[0].value == "Spend overview"


def test_without_demo_mode_or_oidc_sign_in_says_how_to_configure_it(configure, billed):
    configure(billed, demo=False)
    app = _run("app", ADMIN)  # a demo pick means nothing when demo mode is off
    assert "Sign-in is not configured" in app.error[0].value
    assert len(app.warning) == 0 and len(app.dataframe) == 0


def test_an_oidc_user_is_looked_up_by_email(configure, billed):
    configure(billed, demo=False)
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=30)
    app.user = {"is_logged_in": True, "email": ADMIN, "email_verified": True}
    app.run()
    assert not app.exception
    assert _organizations(app) == ["Acme Corporation (admin)"]
    assert not any(warning.value.startswith("Demo mode") for warning in app.warning)

    stranger = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=30)
    stranger.user = {"is_logged_in": True, "email": "mallory@evil.example",
                     "email_verified": True}
    stranger.run()
    assert "no fleetspend account for mallory@evil.example" in as_read(stranger.error[0].value)
    assert len(stranger.dataframe) == 0


def test_an_oidc_user_without_a_verified_email_is_not_signed_in(configure, billed):
    configure(billed, demo=False)
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=30)
    app.user = {"is_logged_in": True, "email": ADMIN}  # no email_verified claim
    app.secrets["auth"] = {"client_id": "fleetspend",
                           "server_metadata_url": "https://idp.example/.well-known/x"}
    app.run()
    assert not app.exception
    assert "did not confirm that your email address" in app.error[0].value
    assert app.title[0].value == "Sign in to fleetspend"
    assert len(app.dataframe) == 0 and len(app.metric) == 0


def test_a_database_failure_shows_a_reference_and_no_numbers(configure, server_url):
    broken = server_url.rsplit("/", 1)[0] + "/database_that_does_not_exist"
    if "?" in server_url:
        broken += "?" + server_url.split("?", 1)[1]
    configure(broken, demo=False)
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=30)
    app.user = {"is_logged_in": True, "email": ADMIN, "email_verified": True}
    app.run()
    assert not app.exception
    assert "quote reference" in app.error[0].value
    assert len(app.metric) == 0 and len(app.dataframe) == 0


def test_an_empty_database_in_demo_mode_offers_the_demo_data(configure, database_url):
    configure(database_url)
    app = _run("app")
    assert not app.exception
    assert "load the demo data first" in app.info[0].value
    assert app.button(key="demo_data_load").label == "Load the demo data"
    assert len(app.dataframe) == 0


def test_cached_figures_never_cross_scopes(open_page, spend_url):
    """The spend overview caches its reads; each person still sees only their own figures."""

    def month_to_date(email: str) -> str:
        app = open_page(spend_url, "overview", email=email).run()
        assert not app.exception
        return next(metric.value for metric in app.metric
                    if metric.label.startswith("Month to date"))

    acme = month_to_date(ADMIN)
    globex = month_to_date("admin@globex.example")  # served while acme's figures are cached
    assert month_to_date(ADMIN) == acme != globex
    assert month_to_date(MEMBER) == acme  # same organization, another scope: same figures
