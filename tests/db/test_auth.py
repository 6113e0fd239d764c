"""Identity and membership lookups as the app's role, against the seeded database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from fleetspend import auth, db
from fleetspend.alerts import inbox
from queries import sql
from tests.conftest import engine_for


@pytest.fixture
def app_connection(seeded_database_url: str) -> Iterator[Connection]:
    """A connection as fleetspend_app, in a transaction rolled back at the end."""
    engine = engine_for(db.as_app_role(seeded_database_url))
    with engine.connect() as connection:
        assert connection.execute(text("select current_user")).scalar() == db.APP_ROLE
        yield connection
        connection.rollback()
    engine.dispose()


def test_people_are_found_by_email_whatever_its_case(app_connection):
    admin = auth.identify(app_connection, "  Admin@ACME.example ")
    engineer = auth.identify(app_connection, "support1@fleetspend.example")
    assert admin is not None and admin.kind == "user" and not admin.is_staff
    assert admin.email == "Admin@ACME.example"
    assert engineer is not None and engineer.is_staff
    assert auth.identify(app_connection, "nobody@acme.example") is None


def test_a_customer_sees_their_own_memberships_and_an_engineer_none(app_connection):
    admin = auth.identify(app_connection, "admin@acme.example")
    engineer = auth.identify(app_connection, "support1@fleetspend.example")
    db.set_local(app_connection, auth.scope_for(admin).settings())
    assert [(m.slug, m.role) for m in auth.memberships(app_connection, admin)] == [
        ("acme", auth.ADMIN)]
    assert auth.grants_of(app_connection, admin) == []
    db.set_local(app_connection, auth.scope_for(engineer).settings())
    assert auth.memberships(app_connection, engineer) == []
    assert auth.grants_of(app_connection, engineer) == []


def test_only_engineers_may_look_organizations_up_by_slug(app_connection):
    admin = auth.identify(app_connection, "admin@acme.example")
    db.set_local(app_connection, auth.scope_for(admin).settings())
    with pytest.raises(DBAPIError, match="only support engineers"):
        app_connection.execute(text("select fleetspend_auth.org_id_for_support('globex')"))


def test_a_customer_reads_no_other_customers_email(app_connection):
    developer = auth.identify(app_connection, "dev@acme.example")
    db.set_local(app_connection, auth.scope_for(developer).settings())
    emails = app_connection.execute(text("select email from users")).scalars().all()
    staff = app_connection.execute(text("select count(*) from staff_users")).scalar()
    assert emails == ["dev@acme.example"]
    assert staff == 0



def test_a_developer_reads_their_organization_s_team_names(app_connection):
    developer = auth.identify(app_connection, "dev@acme.example")
    db.set_local(app_connection, auth.scope_for(developer).settings())
    (membership,) = auth.memberships(app_connection, developer)
    names = app_connection.execute(text(
        "select organizations.slug, teams.name from teams join organizations using (org_id)"
    )).all()
    labels = app_connection.execute(sql("org_dimension_values"),
                                    {"org_id": membership.org_id}).all()
    assert names and {slug for slug, _ in names} == {"acme"}
    team_labels = {label for dimension, _, label in labels if dimension == "team"}
    assert team_labels and team_labels <= {name for _, name in names}
    assert not any(name.startswith("Team ") for _, name in names)


# --- access follows the accounts (migration 0015): judged at now(), each transaction ---------

def _visible(connection: Connection, email: str) -> list[str]:
    caller = auth.identify(connection, email)
    db.set_local(connection, auth.scope_for(caller).settings())
    return connection.execute(text("select slug from organizations order by slug")).scalars().all()


@pytest.mark.parametrize(("change", "visible"), [
    ("update memberships set removed_at = now() - interval '1 minute'", []),
    ("update memberships set removed_at = now() + interval '1 day'", ["acme"]),
    ("update memberships set created_at = now() + interval '1 day'", []),
    ("update organizations set closed_at = now() - interval '1 minute' where slug = 'acme'", []),
    ("update organizations set closed_at = now() + interval '1 day' where slug = 'acme'",
     ["acme"]),
], ids=["removed", "removal ahead", "joining ahead", "closed", "closing ahead"])
def test_a_membership_counts_from_joining_to_removal_in_an_organization_not_closed(
        seeded_engine, app_connection, change, visible):
    with seeded_engine.begin() as owner:
        owner.execute(text(change + (" where user_id = (select user_id from users where "
                                     "email = 'dev@acme.example')" if "memberships" in change
                                     else "")))
    assert _visible(app_connection, "dev@acme.example") == visible
    caller = auth.identify(app_connection, "dev@acme.example")
    assert [m.slug for m in auth.memberships(app_connection, caller)] == visible


@pytest.fixture
def granted(seeded_database_url: str) -> Iterator[tuple[Engine, auth.Caller, auth.SupportGrant]]:
    """The primary as the app's role, the engineer, and their grant on acme."""
    app = engine_for(db.as_app_role(seeded_database_url))
    with app.connect() as connection:
        engineer = auth.identify(connection, "support1@fleetspend.example")
    grant = auth.open_support_access(app, engineer, org_slug="acme", ticket="T-1",
                                     reason="dispute", duration=auth.MIN_GRANT)
    yield app, engineer, grant
    app.dispose()


def test_an_engineer_who_left_is_nobody_and_their_grant_stops_working(granted, seeded_engine):
    app, engineer, grant = granted
    with seeded_engine.begin() as owner:
        owner.execute(text("update staff_users set removed_at = now() "
                           "where email = 'support1@fleetspend.example'"))
    with app.connect() as connection:
        assert auth.identify(connection, "support1@fleetspend.example") is None
        db.set_local(connection, auth.scope_for(engineer, grant=grant).settings())
        with pytest.raises(DBAPIError) as refused:
            connection.execute(text("select count(*) from organizations")).scalar()
        assert auth.is_grant_not_active(refused.value)


def test_a_removed_admin_revokes_no_support_grant(granted, seeded_engine):
    app, _, grant = granted
    with app.connect() as connection:
        admin = auth.identify(connection, "admin@acme.example")
    with seeded_engine.begin() as owner:
        owner.execute(text("update memberships set removed_at = now() where user_id = "
                           "(select user_id from users where email = 'admin@acme.example')"))
    with pytest.raises(auth.AccessRefusedError):
        auth.revoke_support_access(app, admin, grant.grant_id)


# --- the frame of a page view in one statement (migration 0024) ------------------------------

def _anomaly_alert(owner: Connection, slug: str, key: str) -> None:
    owner.execute(text(
        "insert into alerts (org_id, kind, period_start_date, anomaly_key, title, explanation, "
        "link_page) select org_id, 'anomaly', date '2026-11-01', :key, 'Spike', 'why', "
        "'explorer' from organizations where slug = :slug"), {"slug": slug, "key": key})


def _scope_reads(connection: Connection) -> list[str]:
    return connection.execute(text("select slug from organizations order by slug")).scalars().all()


def test_the_frame_is_what_the_separate_reads_say_for_the_caller_only(
        seeded_engine, app_connection):
    """One statement identifies, scopes and reads: the same memberships and unread count as
    the reads it replaces, in the caller's organization, whichever other one the URL names."""
    with seeded_engine.begin() as owner:
        _anomaly_alert(owner, "acme", "app:web")
        _anomaly_alert(owner, "acme", "app:api")
        _anomaly_alert(owner, "globex", "app:web")
    frame = auth.page_frame(app_connection, " dev@acme.example ", "globex")
    assert frame is not None and frame.caller.email == "dev@acme.example"
    assert frame.membership is not None and frame.membership.slug == "acme"
    assert frame.scope == db.Scope(org_ids=(frame.membership.org_id,),
                                   user_id=frame.caller.actor_id).settings()
    assert _scope_reads(app_connection) == ["acme"]  # the transaction holds that scope
    caller = auth.identify(app_connection, "dev@acme.example")
    assert caller == frame.caller
    assert frame.memberships == auth.memberships(app_connection, caller)
    assert frame.unread_alerts == 2 == inbox.unread_count(
        app_connection, frame.membership.org_id, caller.actor_id)
    assert frame.grants == []


def test_the_frame_of_a_removed_member_or_an_unknown_email_reads_nothing(
        seeded_engine, app_connection):
    with seeded_engine.begin() as owner:
        owner.execute(text("update memberships set removed_at = now() - interval '1 minute' "
                           "where user_id = (select user_id from users "
                           "where email = 'dev@acme.example')"))
    frame = auth.page_frame(app_connection, "dev@acme.example", "acme")
    assert frame is not None and frame.memberships == [] and frame.membership is None
    assert frame.unread_alerts is None
    assert _scope_reads(app_connection) == []
    assert auth.page_frame(app_connection, "nobody@acme.example", "acme") is None
    with pytest.raises(DBAPIError, match="no caller scope"):  # fails closed
        _scope_reads(app_connection)


def test_the_frame_lists_an_engineers_own_grants_and_not_a_revoked_one(granted, seeded_engine):
    app, engineer, grant = granted
    with app.connect() as connection:
        other = auth.identify(connection, "support2@fleetspend.example")
    assert other is not None
    theirs = auth.open_support_access(app, other, org_slug="acme", ticket="T-2",
                                      reason="dispute", duration=auth.MIN_GRANT)
    with app.connect() as connection:
        frame = auth.page_frame(connection, "support1@fleetspend.example", "acme")
        assert frame is not None and frame.caller == engineer
        assert frame.grants == [grant] == auth.grants_of(connection, engineer)
        assert frame.scope == auth.scope_for(engineer).settings()
        assert frame.memberships == [] and frame.unread_alerts is None
    auth.revoke_support_access(app, engineer, grant.grant_id)
    with app.connect() as connection:
        frame = auth.page_frame(connection, "support1@fleetspend.example", None)
        assert frame is not None and frame.grants == []
        frame = auth.page_frame(connection, "support2@fleetspend.example", None)
        assert frame is not None and [g.grant_id for g in frame.grants] == [theirs.grant_id]


def test_the_frame_reads_with_the_callers_rights(app_connection):
    """SECURITY INVOKER: its reads are bound by row-level security as the page's are."""
    definer = app_connection.execute(text(
        "select prosecdef from pg_proc where oid = "
        "'fleetspend_auth.page_frame(text, text)'::regprocedure")).scalar()
    assert definer is False
