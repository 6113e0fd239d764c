"""Tenant isolation, enforced by the database: the matrix of who sees which rows.

Every protected table and every query in queries/ is run as: no scope (missing and empty),
a member of A, an admin of A, a support engineer without a grant, with an active grant for A
and with an expired grant for A; on the primary and on a streaming replica, always as the
app's role ``fleetspend_app``. What each may see comes from an oracle independent of the
policies: inside a rolled-back owner transaction, every row the access model below says the
caller may not see is deleted, and the same statement is run there. The two results must be
equal row for row.

The cluster (an embedded primary and one hot standby) is built here: a replica must be a copy
of a primary this module controls, whatever TEST_DATABASE_URL says.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from fleetspend import auth, db, embedded, rollups, schema
from fleetspend.billing import invoice_status
from fleetspend.billing.credit_notes import issue_credit_note
from fleetspend.billing.invoices import finalize_month
from fleetspend.embedded import EmbeddedPostgres
from fleetspend.seed import generate
from queries import catalog
from tests.conftest import SEED_FOR_TESTS, engine_for

pytestmark = pytest.mark.replica

# The access model: which level of access reads each protected table (see migration 0004).
USAGE = "usage"
BILLING = "billing"
OVERSIGHT = "oversight"
TABLE_LEVELS = {
    "organizations": USAGE, "apps": USAGE, "machines": USAGE, "machine_events": USAGE,
    "machine_runs": USAGE, "volumes": USAGE, "machine_usage": USAGE, "volume_usage": USAGE,
    "rollup_resource_daily": USAGE,
    "rollup_usage_daily": USAGE, "rollup_usage_monthly": USAGE, "rollup_pending_days": USAGE,
    "rollup_org_daily": USAGE, "rollup_app_region_daily": USAGE, "rollup_region_size_daily": USAGE,
    "rollup_app_region_monthly": USAGE, "rollup_region_size_monthly": USAGE,
    "rollup_app_region_size_daily": USAGE, "rollup_app_region_size_monthly": USAGE,
    "rollup_app_region_series": USAGE, "rollup_team_region_daily": USAGE,
    "rollup_team_region_monthly": USAGE, "rollup_team_daily": USAGE,
    "rollup_team_monthly": USAGE, "rollup_team_region_size_daily": USAGE,
    "rollup_team_region_size_monthly": USAGE,
    "rollup_anomaly_findings": USAGE, "rollup_org_latest_hour": USAGE,
    "invoices": BILLING, "invoice_lines": BILLING, "invoice_allocations": BILLING,
    "invoice_group_amounts": BILLING, "invoice_group_resources": BILLING,
    "credit_notes": BILLING, "teams": USAGE, "memberships": BILLING,
    "late_usage_periods": BILLING, "month_figures": BILLING,
    "support_grants": OVERSIGHT, "audit_events": OVERSIGHT,
    "users": "people", "staff_users": "people",
    # budgets and alerts (migration 0016); receipts and mutes: each person's own
    "budgets": USAGE, "budget_month_amounts": USAGE, "alerts": USAGE,
    "alert_receipts": "own", "alert_mutes": "own",
    "alert_email_recipients": OVERSIGHT, "alert_webhooks": OVERSIGHT,
    "alert_deliveries": OVERSIGHT, "delivery_attempts": OVERSIGHT,
}
# what the app's role may select of a table when not every column (a webhook's secret never)
READABLE_COLUMNS = {"alert_webhooks": "org_id, webhook_id, name, url, is_enabled, created_at"}
BILLED_MONTH = date(2026, 10, 1)

# plausible values for every parameter a query in queries/ takes
QUERY_PARAMETERS: dict[str, object] = {
    "start_date": date(2026, 9, 25), "end_date": date(2026, 11, 20),
    "whole_from": date(2026, 10, 1), "whole_until": date(2026, 11, 1),
    "months_from": date(2026, 10, 1), "months_until": date(2026, 11, 1),
    "dimension_1": "team", "dimension_2": "region", "row_limit": None, "daily_source": "meter",
    "month_date": BILLED_MONTH, "app_id": None, "grain": "week",
    "as_of_date": date(2026, 11, 20),
    # the team comparison's ranges of daily and of monthly rows (teams.Period.params)
    "days": [date(2026, 9, 25), date(2026, 9, 26), date(2026, 11, 1), date(2026, 11, 2)],
    "months": [date(2026, 10, 1)],
    "start_month": date(2026, 9, 1), "end_month": date(2026, 12, 1),
    "start_at": datetime(2026, 10, 1, tzinfo=UTC), "end_at": datetime(2026, 11, 1, tzinfo=UTC),
    "group_by": "invoice", "group_key": "", "id_prefix": None, "app_pattern": None,
    "sort": "amount", "page_size": 50, "page_offset": 0, "measure": "spend",
    "app_ids": None, "team_ids": None, "region_codes": None, "continents": None,
    "preset_codes": None, "products": None, "top": 8, "with_cells": True,
    **invoice_status.sealed_params(),
}


@dataclass(frozen=True)
class Caller:
    """One row of the matrix: a scope and what the access model says it may see."""

    name: str
    scope: db.Scope | None
    usage: frozenset[int] = frozenset()
    billing: frozenset[int] = frozenset()
    oversight: frozenset[int] = frozenset()
    user_id: int | None = None
    staff_user_id: int | None = None
    refused_with: str | None = None  # the SQLSTATE every protected read raises


@dataclass
class World:
    primary: EmbeddedPostgres
    replica: EmbeddedPostgres
    owner: Engine
    org_a: int
    org_b: int
    callers: dict[str, Caller]

    def app_url(self, server: EmbeddedPostgres) -> str:
        return db.as_app_role(server.url(db.APP_DATABASE))


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _caught_up(primary: EmbeddedPostgres, replica: EmbeddedPostgres) -> None:
    with psycopg.connect(primary.url(db.APP_DATABASE), autocommit=True) as connection:
        lsn = connection.execute("select pg_current_wal_insert_lsn()::text").fetchone()[0]

    def replayed() -> bool:
        with psycopg.connect(replica.url(db.APP_DATABASE), autocommit=True) as connection:
            return connection.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                      (lsn,)).fetchone()[0]

    _wait_for(replayed, f"the replica to replay {lsn}")


def _one(connection: Connection, statement: str, **params: object) -> object:
    return connection.execute(text(statement), params).scalar_one()


def _fill_every_tenant_table(owner: Engine) -> tuple[int, int, int]:
    """Invoices, credit notes, rollups, grants and audit events beside the seed's rows."""
    rollups.refresh(owner)
    finalize_month(owner, BILLED_MONTH)
    with owner.begin() as connection:
        org_a = _one(connection, "select org_id from organizations where slug = 'acme'")
        org_b = _one(connection, "select org_id from organizations where slug = 'globex'")
        staff = _one(connection, "select staff_user_id from staff_users "
                                 "where email = 'support1@fleetspend.example'")
        other_staff = _one(connection, "select staff_user_id from staff_users "
                                       "where email = 'support2@fleetspend.example'")
        invoices = connection.execute(text(
            "select invoice_number from invoices where org_id in (:a, :b) "
            "and period_start_date = :month"), {"a": org_a, "b": org_b, "month": BILLED_MONTH}
        ).scalars().all()
        # pending rollup days are consumed by a refresh; leave one per org to be read
        connection.execute(text(
            "insert into rollup_pending_days (org_id, usage_date) "
            "values (:a, '2026-11-01'), (:b, '2026-11-01')"), {"a": org_a, "b": org_b})
        # late usage noted for the billed month, as an import would note it
        connection.execute(text(
            "insert into late_usage_periods (org_id, period_start_date) "
            "values (:a, :month), (:b, :month)"), {"a": org_a, "b": org_b, "month": BILLED_MONTH})
        connection.execute(text("""
            insert into support_grants
                (org_id, staff_user_id, support_ticket, reason, granted_at, expires_at)
            values
                (:a, :staff, 'T-100', 'invoice dispute', now(), now() + interval '1 hour'),
                (:a, :staff, 'T-050', 'old ticket', now() - interval '2 days',
                 now() - interval '1 day'),
                (:b, :other, 'T-200', 'egress question', now(), now() + interval '1 hour')
        """), {"a": org_a, "b": org_b, "staff": staff, "other": other_staff})
        connection.execute(text("""
            insert into audit_events (org_id, actor_kind, actor_id, action, detail)
            select org_id, 'staff', staff_user_id, 'support.access_opened',
                   jsonb_build_object('grant_id', grant_id)
            from support_grants
        """))
    _fill_budget_tables(owner, org_a, org_b)
    for invoice_number in invoices:
        issue_credit_note(owner, invoice_number=invoice_number, amount_cents=150,
                          reason="goodwill", support_ticket="T-100", issued_by=staff)
    return org_a, org_b, staff


def _fill_budget_tables(owner: Engine, org_a: int, org_b: int) -> None:
    """A budget, its month, an alert, a receipt, a mute and delivery rows in A and in B, for
    the admin and the member of each (receipts and mutes are each person's own)."""
    with owner.begin() as connection:
        for org in (org_a, org_b):
            people = connection.execute(text(
                "select user_id from memberships where org_id = :org order by user_id"),
                {"org": org}).scalars().all()
            budget = _one(connection, "insert into budgets (org_id, name, scope_kind, "
                          "amount_cents) values (:org, 'All', 'organization', 100000) "
                          "returning budget_id", org=org)
            connection.execute(text(
                "insert into budget_month_amounts (org_id, budget_id, month_date, amount_cents)"
                " values (:org, :budget, '2026-11-01', 90000)"), {"org": org, "budget": budget})
            alert = _one(connection, "insert into alerts (org_id, kind, budget_id, "
                         "period_start_date, threshold_percent, title, explanation, link_page) "
                         "values (:org, 'actual', :budget, '2026-11-01', 80, 'Budget at 80%', "
                         "'spent', 'pages/budgets.py') returning alert_id",
                         org=org, budget=budget)
            for person in people:
                connection.execute(text(
                    "insert into alert_receipts (org_id, alert_id, user_id) "
                    "values (:org, :alert, :person)"), {"org": org, "alert": alert,
                                                        "person": person})
                connection.execute(text(
                    "insert into alert_mutes (org_id, user_id, kind, budget_id) "
                    "values (:org, :person, 'forecast', :budget)"),
                    {"org": org, "person": person, "budget": budget})
            connection.execute(text(
                "insert into alert_email_recipients (org_id, email) "
                "values (:org, 'alerts@example.com')"), {"org": org})
            webhook = _one(connection, "insert into alert_webhooks (org_id, name, url, secret) "
                           "values (:org, 'chat', 'http://127.0.0.1:9/hook', "
                           "'0123456789abcdef') returning webhook_id", org=org)
            delivery = _one(connection, "insert into alert_deliveries (org_id, alert_id, "
                            "channel, webhook_id) values (:org, :alert, 'webhook', :webhook) "
                            "returning delivery_id", org=org, alert=alert, webhook=webhook)
            connection.execute(text(
                "insert into delivery_attempts (org_id, delivery_id, is_success, error, "
                "duration_ms) values (:org, :delivery, false, 'connection refused', 3)"),
                {"org": org, "delivery": delivery})


def _callers(owner: Engine, org_a: int, staff: int) -> dict[str, Caller]:
    with owner.connect() as connection:
        member = _one(connection, "select user_id from users where email = 'dev@acme.example'")
        admin = _one(connection, "select user_id from users where email = 'admin@acme.example'")
        active = _one(connection, "select grant_id from support_grants "
                                  "where support_ticket = 'T-100'")
        expired = _one(connection, "select grant_id from support_grants "
                                   "where support_ticket = 'T-050'")
    a = frozenset({org_a})
    callers = [
        Caller("missing scope", None, refused_with="42501"),
        Caller("empty scope", db.Scope(), refused_with="42501"),
        Caller("member of A", db.Scope(user_id=member), usage=a, user_id=member),
        Caller("admin of A", db.Scope(user_id=admin), usage=a, billing=a, oversight=a,
               user_id=admin),
        Caller("support without grant", db.Scope(staff_user_id=staff), staff_user_id=staff),
        Caller("support with grant for A",
               db.Scope(org_ids=(org_a,), staff_user_id=staff, grant_id=active),
               usage=a, billing=a, staff_user_id=staff),
        Caller("support with expired grant",
               db.Scope(org_ids=(org_a,), staff_user_id=staff, grant_id=expired),
               staff_user_id=staff, refused_with=auth.GRANT_NOT_ACTIVE),
    ]
    return {caller.name: caller for caller in callers}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    primary = embedded.temporary_server()
    primary.start()
    replica = None
    try:
        primary.create_database(db.APP_DATABASE)
        owner = engine_for(primary.url(db.APP_DATABASE))
        schema.upgrade(owner)
        generate(owner, scale="small", seed=SEED_FOR_TESTS)
        org_a, org_b, staff = _fill_every_tenant_table(owner)
        replica = embedded.start_streaming_replica(primary, primary.data_dir.parent / "replica")
        _caught_up(primary, replica)
        yield World(primary, replica, owner, org_a, org_b, _callers(owner, org_a, staff))
        owner.dispose()
    finally:
        for server in [replica, primary]:
            if server is not None:
                server.stop()
        shutil.rmtree(primary.data_dir.parent, ignore_errors=True)


# --- the oracle ----------------------------------------------------------------------------


def _protected_relations(connection: Connection) -> list[str]:
    """Tables under row-level security, and views (which read them with the caller's rights)."""
    return list(connection.execute(text(
        "select relname from pg_class where relnamespace = 'public'::regnamespace "
        "and not relispartition and (relrowsecurity or relkind = 'v') order by relname"
    )).scalars())


def _hide_what_the_caller_may_not_see(connection: Connection, caller: Caller) -> None:
    """Delete every row the access model hides from ``caller`` (owner, triggers off)."""
    connection.execute(text("set local session_replication_role = replica"))
    visible = {USAGE: sorted(caller.usage), BILLING: sorted(caller.billing),
               OVERSIGHT: sorted(caller.oversight)}
    own = {"user_id": caller.user_id, "staff_user_id": caller.staff_user_id}
    conditions = {
        "memberships": "org_id = any(:billing) or user_id = :user_id",
        "support_grants": "org_id = any(:oversight) or staff_user_id = :staff_user_id",
        # after memberships and grants: people visible through what is left of those
        "users": "user_id = :user_id or user_id in (select user_id from memberships)",
        "alert_receipts": "user_id = :user_id and org_id = any(:usage)",
        "alert_mutes": "user_id = :user_id and org_id = any(:usage)",
        "staff_users": "staff_user_id = :staff_user_id "
                       "or staff_user_id in (select staff_user_id from support_grants)",
    }
    order = sorted(TABLE_LEVELS, key=lambda table: table in ("users", "staff_users"))
    for table in order:
        condition = conditions.get(table, f"org_id = any(:{TABLE_LEVELS[table]})")
        connection.execute(text(f"delete from {table} where not coalesce({condition}, false)"),
                           {**visible, **own})


# columns about the server answering (org_freshness's replay lag), which the primary and a
# replica answer differently whoever asks: left out of the comparison
SERVER_COLUMNS = {"is_replica", "is_receiving", "lag_seconds", "lag_bytes", "last_replayed_at"}


def _rows(connection: Connection, statement: str, params: dict[str, object]) -> list[str]:
    result = connection.execute(text(statement), params)
    kept = [index for index, key in enumerate(result.keys()) if key not in SERVER_COLUMNS]
    return sorted(repr(tuple(row[index] for index in kept)) for row in result)


# queries that scope the transaction themselves, for the caller they identify, so that no
# scope set before them is theirs: each has a test of its own below
SETS_ITS_OWN_SCOPE = {"page_frame": "test_the_frame_reads_what_its_caller_may_see"}


def _statements(world: World) -> dict[str, tuple[str, dict[str, object]]]:
    """Every protected table as ``select *``, and every query in queries/ with parameters."""
    with world.owner.connect() as connection:
        tables = [name for name in _protected_relations(connection) if name in TABLE_LEVELS]
    statements = {
        f"table {table}": (f"select {READABLE_COLUMNS.get(table, '*')} from {table}", {})
        for table in tables}
    member = world.callers["member of A"]
    staff = world.callers["support without grant"]
    with world.owner.connect() as connection:
        invoice = connection.execute(text(
            "select invoice_id, invoice_number from invoices "
            "where org_id = :org and period_start_date = :month"),
            {"org": world.org_a, "month": BILLED_MONTH}).one()
        machine_id = _one(connection, "select machine_id from machine_usage where org_id = :org "
                                      "order by machine_id limit 1", org=world.org_a)
    known = {**QUERY_PARAMETERS, "org_id": world.org_a, "user_id": member.user_id,
             "staff_user_id": staff.staff_user_id, "invoice_id": invoice.invoice_id,
             "invoice_number": invoice.invoice_number, "machine_id": machine_id}
    for name, body in catalog().items():
        if name in SETS_ITS_OWN_SCOPE:
            continue
        code = "\n".join(line.split("--", 1)[0] for line in body.splitlines())
        names = set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", code))
        missing = names - set(known)
        assert not missing, f"queries/{name}.sql: give {sorted(missing)} a plausible value here"
        statements[f"query {name}"] = (body, {key: known[key] for key in names})
    return statements


def _reads_protected(statement: str, protected: list[str]) -> bool:
    code = "\n".join(line.split("--", 1)[0] for line in statement.splitlines())
    return any(re.search(rf"\b{re.escape(name)}\b", code) for name in protected)


def _expected(world: World, caller: Caller,
              statements: dict[str, tuple[str, dict[str, object]]]) -> dict[str, list[str]]:
    expected = {}
    with world.owner.connect() as connection, connection.begin() as transaction:
        _hide_what_the_caller_may_not_see(connection, caller)
        for label, (statement, params) in statements.items():
            expected[label] = _rows(connection, statement, params)
        transaction.rollback()
    return expected


def _everything(world: World,
                statements: dict[str, tuple[str, dict[str, object]]]) -> dict[str, list[str]]:
    """What each statement returns to the owner, who sees every row."""
    with world.owner.connect() as connection:
        return {label: _rows(connection, statement, params)
                for label, (statement, params) in statements.items()}


# --- the matrix ----------------------------------------------------------------------------


def test_the_statements_cover_every_tenant_table_and_query(world):
    statements = _statements(world)
    with world.owner.connect() as connection:
        tenant_tables = set(connection.execute(text(
            "select distinct attrelid::regclass::text from pg_attribute "
            "join pg_class on pg_class.oid = attrelid "
            "where attname = 'org_id' and not attisdropped and relkind in ('r', 'p') "
            "and relnamespace = 'public'::regnamespace and not relispartition"
        )).scalars())
        for table in tenant_tables:  # each one has rows of A and of B to hide or show
            orgs = set(connection.execute(text(f"select distinct org_id from {table}")).scalars())
            assert {world.org_a, world.org_b} <= orgs, f"{table} lacks rows of A or B"
    assert tenant_tables <= set(TABLE_LEVELS), "classify the new tenant table in TABLE_LEVELS"
    assert {f"table {table}" for table in tenant_tables} <= set(statements)
    assert {f"query {name}" for name in catalog() if name not in SETS_ITS_OWN_SCOPE} <= set(
        statements)


@pytest.mark.parametrize("server", ["primary", "replica"])
@pytest.mark.parametrize("caller_name", [
    "missing scope", "empty scope", "member of A", "admin of A", "support without grant",
    "support with grant for A", "support with expired grant",
])
def test_each_caller_sees_exactly_its_rows(world, server, caller_name):
    caller = world.callers[caller_name]
    statements = _statements(world)
    with world.owner.connect() as connection:
        protected = _protected_relations(connection)
    expected = _expected(world, caller, statements)
    everything = _everything(world, statements) if caller.refused_with else {}
    target = world.primary if server == "primary" else world.replica
    pool = db.ReadPool([world.app_url(target)], pool_size=1)
    shown_rows = 0
    try:
        for label, (statement, params) in statements.items():
            reads_tenants = _reads_protected(statement, protected)
            refused = caller.refused_with if reads_tenants else None
            with pool.snapshot(caller.scope) as snapshot:
                assert snapshot.connection.execute(text("select current_user")).scalar() == (
                    db.APP_ROLE)
                if not reads_tenants:  # e.g. replica lag: about the server, for anyone
                    snapshot.connection.execute(text(statement), params).all()
                    continue
                if refused:
                    # the policies raise whenever they are asked about a row; a statement
                    # that finds no row even for the owner may end before asking
                    try:
                        rows = snapshot.connection.execute(text(statement), params).all()
                    except DBAPIError as error:
                        assert error.orig.sqlstate == refused, label
                    else:
                        assert rows == [] and everything[label] == [], label
                    continue
                actual = _rows(snapshot.connection, statement, params)
            assert actual == expected[label], f"{caller.name} on {server}: {label}"
            shown_rows += len(actual)
    finally:
        pool.dispose()
    if caller.usage:
        assert shown_rows > 0


@pytest.mark.parametrize("caller_name", ["member of A", "admin of A"])
def test_the_frame_reads_what_its_caller_may_see(world, caller_name):
    """page_frame identifies the caller by email and scopes the transaction to them itself,
    whatever the scope before it (none here) and whichever organization the URL names (B):
    its row is what the access model shows that caller (the owner's rows, the rest deleted),
    read as the app's role under row-level security (SECURITY INVOKER). (A support engineer's
    frame names the organizations of their own grants, which the model hides from them and
    ``granted_organizations`` shows: tests/db/test_auth.py compares it with ``grants_of``.)"""
    caller = world.callers[caller_name]
    with world.owner.connect() as connection:
        email = connection.execute(text(
            "select email from users where user_id = :user_id union all "
            "select email from staff_users where staff_user_id = :staff_user_id"),
            {"user_id": caller.user_id, "staff_user_id": caller.staff_user_id}).scalar_one()
        slug_b = _one(connection, "select slug from organizations where org_id = :org",
                      org=world.org_b)
    frame = (catalog()["page_frame"], {"email": email, "wanted_org_slug": slug_b})
    expected = _expected(world, caller, {"frame": frame})["frame"]
    pool = db.ReadPool([world.app_url(world.primary)], pool_size=1)
    try:
        with pool.snapshot() as snapshot:
            actual = _rows(snapshot.connection, *frame)
    finally:
        pool.dispose()
    assert actual == expected
    assert len(actual) == 1  # nothing of B, whatever the URL names; narrowed to A
    assert f"'slug': '{slug_b}'" not in actual[0]
    assert f"'fleetspend.org_ids': '{world.org_a}'" in actual[0]


def test_the_model_tells_the_callers_apart(world):
    """The oracle is not vacuous: the callers' expected rows differ where their rights do."""
    statements = _statements(world)
    seen = {name: _expected(world, world.callers[name], statements)
            for name in ("member of A", "admin of A", "support without grant",
                         "support with grant for A")}
    assert seen["member of A"]["table machines"] == seen["admin of A"]["table machines"] != []
    assert seen["member of A"]["table invoices"] == []
    assert seen["admin of A"]["table invoices"] == seen["support with grant for A"][
        "table invoices"] != []
    assert seen["admin of A"]["table audit_events"] != []
    assert seen["support with grant for A"]["table audit_events"] == []
    assert seen["support without grant"]["table machines"] == []
    assert len(seen["support without grant"]["table support_grants"]) == 2  # their own


def test_narrowing_to_another_organization_never_widens(world):
    member = world.callers["member of A"]
    pool = db.ReadPool([world.app_url(world.primary)], pool_size=1)
    try:
        with pool.snapshot(db.Scope(org_ids=(world.org_b,), user_id=member.user_id)) as view:
            assert view.connection.execute(text("select count(*) from machines")).scalar() == 0
        with pool.snapshot(db.Scope(org_ids=(world.org_a, world.org_b),
                                    user_id=member.user_id)) as view:
            orgs = view.connection.execute(text("select distinct org_id from machines")).all()
        assert orgs == [(world.org_a,)]
    finally:
        pool.dispose()


@pytest.mark.parametrize("settings", [
    {"fleetspend.user_id": "1", "fleetspend.staff_user_id": "1"},
    {"fleetspend.user_id": "1; drop table machines"},
    {"fleetspend.user_id": "1", "fleetspend.grant_id": "1"},
    {"fleetspend.user_id": "1", "fleetspend.org_ids": "1) or (true"},
])
def test_malformed_or_contradictory_scopes_are_errors(world, settings):
    with psycopg.connect(world.app_url(world.primary)) as connection:
        for name, value in settings.items():
            connection.execute("select set_config(%s, %s, true)", (name, value))
        with pytest.raises(psycopg.Error) as error:
            connection.execute("select count(*) from machines")
    assert error.value.sqlstate in ("42501", "22023")


# --- pooled connections --------------------------------------------------------------------


def test_one_pooled_connection_used_for_a_then_b_never_shows_a_to_b(world):
    with world.owner.connect() as connection:
        admin_b = _one(connection, "select user_id from users where email = 'admin@globex.example'")
    admin_a = world.callers["admin of A"].user_id
    pool = db.ReadPool([world.app_url(world.replica)], pool_size=1)
    pids, seen = [], []
    try:
        for scope in (db.Scope(user_id=admin_a), db.Scope(user_id=admin_b),
                      db.Scope(user_id=admin_a), db.Scope(user_id=admin_b)):
            with pool.snapshot(scope) as view:
                pids.append(view.connection.execute(text("select pg_backend_pid()")).scalar())
                seen.append(set(view.connection.execute(
                    text("select distinct org_id from machines "
                         "union select distinct org_id from invoices")).scalars()))
        with pool.snapshot() as view:  # and the next view without a scope gets an error
            pids.append(view.connection.execute(text("select pg_backend_pid()")).scalar())
            with pytest.raises(DBAPIError) as error:
                view.connection.execute(text("select count(*) from machines")).all()
        assert error.value.orig.sqlstate == "42501"
    finally:
        pool.dispose()
    assert len(set(pids)) == 1, "the views did not share one pooled connection"
    assert seen == [{world.org_a}, {world.org_b}, {world.org_a}, {world.org_b}]


def test_a_committed_scope_does_not_survive_on_a_raw_pooled_connection(world):
    engine = db.make_engine(world.app_url(world.primary), poolclass=QueuePool, pool_size=1,
                            max_overflow=0)
    member = world.callers["member of A"]
    try:
        with engine.begin() as connection:
            db.set_local(connection, db.Scope(user_id=member.user_id).settings())
            assert _one(connection, "select count(*) from machines") > 0
        with engine.connect() as connection:
            with pytest.raises(DBAPIError) as error:
                connection.execute(text("select count(*) from machines")).all()
            assert error.value.orig.sqlstate == "42501"
    finally:
        engine.dispose()


# --- support access writes -----------------------------------------------------------------


def _staff(world: World) -> auth.Caller:
    caller = world.callers["support without grant"]
    return auth.Caller("staff", caller.staff_user_id, "Support Agent 1",
                       "support1@fleetspend.example")


def test_opening_support_access_writes_the_grant_and_its_audit_event(world):
    app_primary = engine_for(world.app_url(world.primary))
    staff = _staff(world)
    try:
        grant = auth.open_support_access(app_primary, staff, org_slug="globex", ticket="T-321",
                                         reason="billing dispute", duration=timedelta(hours=1))
        auth.record_support_view(app_primary, staff, grant, "overview")
    finally:
        app_primary.dispose()
    assert grant.org_id == world.org_b
    assert grant.expires_at - grant.granted_at == timedelta(hours=1)
    with world.owner.connect() as connection:
        events = connection.execute(text(
            "select action, actor_id, detail ->> 'support_ticket', detail ->> 'page' "
            "from audit_events where (detail ->> 'grant_id')::bigint = :grant "
            "order by audit_event_id"), {"grant": grant.grant_id}).all()
    assert events == [(auth.ACCESS_OPENED, staff.actor_id, "T-321", None),
                      (auth.PAGE_VIEWED, staff.actor_id, None, "overview")]
    # the replica serves the new grant once it has replayed it
    _caught_up(world.primary, world.replica)
    pool = db.ReadPool([world.app_url(world.replica)], pool_size=1)
    try:
        with pool.snapshot(auth.scope_for(staff, grant=grant)) as view:
            orgs = set(view.connection.execute(text("select org_id from machines")).scalars())
    finally:
        pool.dispose()
    assert orgs == {world.org_b}


@pytest.mark.parametrize(("changes", "message"), [
    ({"org_slug": "no-such-org"}, "no organization with the slug"),
    ({"ticket": "  "}, "name the support ticket"),
    ({"reason": ""}, "say why"),
    ({"duration": timedelta(hours=9)}, "between 15 minutes and 8 hours"),
])
def test_a_refused_support_grant_writes_nothing(world, changes, message):
    app_primary = engine_for(world.app_url(world.primary))
    arguments = {"org_slug": "acme", "ticket": "T-9", "reason": "look",
                 "duration": timedelta(hours=1), **changes}
    with world.owner.connect() as connection:
        before = _one(connection, "select count(*) from support_grants")
    try:
        with pytest.raises(auth.SupportAccessError, match=message):
            auth.open_support_access(app_primary, _staff(world), **arguments)
    finally:
        app_primary.dispose()
    with world.owner.connect() as connection:
        assert _one(connection, "select count(*) from support_grants") == before


@pytest.mark.parametrize("statement", [
    "update audit_events set action = 'edited'",
    "delete from audit_events",
    "update support_grants set expires_at = now() + interval '1 year'",
    "delete from support_grants",
    "truncate audit_events",
    # a grant for someone else, too long, or backdated: the insert policy refuses it
    "insert into support_grants (org_id, staff_user_id, support_ticket, reason, expires_at) "
    "values (1, 2, 'T', 'r', now() + interval '1 hour')",
    "insert into support_grants (org_id, staff_user_id, support_ticket, reason, expires_at) "
    "values (1, 1, 'T', 'r', now() + interval '30 days')",
    "insert into support_grants "
    "(org_id, staff_user_id, support_ticket, reason, granted_at, expires_at) "
    "values (1, 1, 'T', 'r', now() - interval '1 day', now() + interval '1 hour')",
    # an audit event in someone else's name, or on an org no grant opens
    "insert into audit_events (org_id, actor_kind, actor_id, action) "
    "values (1, 'staff', 2, 'support.page_viewed')",
    "insert into audit_events (org_id, actor_kind, actor_id, action) "
    "values (1, 'staff', 1, 'support.page_viewed')",
    "insert into machines (org_id, machine_id, app_id, region_code, preset_code, memory_mb, "
    "created_at) values (1, '0123456789abcd', 1, 'ams', 'shared-cpu-1x', 256, now())",
    # support console (migration 0005): credits only grow, the trail is not forged or edited
    # (credit notes without a grant: tests/db/test_support.py)
    "delete from credit_notes",
    "update invoices set status = 'paid'",
    "insert into staff_audit_events (staff_user_id, action) values (2, 'support.searched')",
    "update staff_audit_events set action = 'edited'",
    "delete from staff_audit_events",
])
def test_the_app_role_cannot_rewrite_history_or_forge_access(world, statement):
    staff = world.callers["support without grant"]
    with psycopg.connect(world.app_url(world.primary)) as connection:
        connection.execute("select set_config('fleetspend.staff_user_id', %s, true)",
                           (str(staff.staff_user_id),))
        with pytest.raises(psycopg.Error) as error:
            connection.execute(statement)
    assert error.value.sqlstate == "42501"  # insufficient privilege or a policy violation


@pytest.mark.parametrize("statement", [
    # a credit note or a grant the app's role writes itself would have no audit event: only
    # the functions of migration 0010 write them, each with its event
    "insert into credit_notes (org_id, invoice_id, credit_note_number, amount_cents, reason, "
    "support_ticket, issued_by) select org_id, invoice_id, 'CN-raw', 1, 'r', 'T-100', "
    "%(staff)s from invoices where org_id = %(org)s and status = 'finalized' limit 1",
    "insert into support_grants (org_id, staff_user_id, support_ticket, reason, expires_at) "
    "values (%(org)s, %(staff)s, 'T-100', 'r', now() + interval '1 hour')",
    "update invoices set credits_cents = credits_cents + 1, total_cents = total_cents - 1 "
    "where org_id = %(org)s",
    "update support_grants set revoked_at = now() where org_id = %(org)s",
])
def test_the_app_role_cannot_write_credits_or_grants_without_their_audit_event(world, statement):
    caller = world.callers["support with grant for A"]
    with psycopg.connect(world.app_url(world.primary)) as connection:
        for name, value in caller.scope.settings().items():
            connection.execute("select set_config(%s, %s, true)", (name, value))
        with pytest.raises(psycopg.Error) as error:
            connection.execute(statement, {"staff": caller.staff_user_id, "org": world.org_a})
    assert error.value.sqlstate == "42501"
