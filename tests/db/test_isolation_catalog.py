"""The catalog proves the isolation design holds for every table, view and role there is.

These read pg_catalog after all migrations, so a tenant table, partition or view added later
without row-level security, or a grant that lets the app rewrite history, fails here.
"""

from __future__ import annotations

from sqlalchemy import text

from fleetspend import db

TENANT_TABLES_SQL = """
select pg_class.oid::regclass::text as table_name,
       pg_class.relrowsecurity as is_enabled,
       pg_class.relforcerowsecurity as is_forced,
       exists (select from pg_policy
               where polrelid = pg_class.oid and polcmd in ('r', '*')
                 and 'fleetspend_app'::regrole = any(polroles)) as has_app_read_policy
from pg_class
where pg_class.relnamespace = 'public'::regnamespace
  and pg_class.relkind in ('r', 'p')
  and not pg_class.relispartition
  and exists (select from pg_attribute where attrelid = pg_class.oid
              and attname = 'org_id' and not attisdropped)
order by 1
"""


def _rows(engine, statement: str) -> list:
    with engine.connect() as connection:
        return connection.execute(text(statement)).all()


def test_every_tenant_table_has_forced_row_level_security_and_a_read_policy(engine):
    rows = _rows(engine, TENANT_TABLES_SQL)
    assert len(rows) >= 20
    unprotected = [row.table_name for row in rows
                   if not (row.is_enabled and row.is_forced and row.has_app_read_policy)]
    assert unprotected == [], "tenant tables without forced RLS and a policy for the app"


def test_partitions_are_reachable_only_through_their_protected_parent(seeded_engine):
    rows = _rows(seeded_engine, """
        select child.relname,
               parent.relforcerowsecurity as parent_forced,
               has_table_privilege('fleetspend_app', child.oid, 'select, insert, update, delete')
                   as app_has_privilege
        from pg_inherits
        join pg_class child on child.oid = pg_inherits.inhrelid
        join pg_class parent on parent.oid = pg_inherits.inhparent
        where child.relnamespace = 'public'::regnamespace and child.relkind in ('r', 'p')
    """)
    assert rows, "the seed creates monthly usage partitions"
    assert [row.relname for row in rows if row.app_has_privilege or not row.parent_forced] == []


def test_the_app_role_owns_nothing_and_cannot_bypass_anything(engine):
    role = _rows(engine, """
        select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin,
               (select count(*) from pg_auth_members where member = pg_roles.oid) as memberships
        from pg_roles where rolname = 'fleetspend_app'
    """)
    assert [tuple(row) for row in role] == [(False, False, False, False, False, True, 0)]
    owned = _rows(engine, """
        select 'relation ' || relname from pg_class where relowner = 'fleetspend_app'::regrole
        union all
        select 'function ' || proname from pg_proc where proowner = 'fleetspend_app'::regrole
        union all
        select 'schema ' || nspname from pg_namespace where nspowner = 'fleetspend_app'::regrole
        union all
        select 'type ' || typname from pg_type where typowner = 'fleetspend_app'::regrole
    """)
    assert owned == []


def test_the_app_role_inserts_only_audit_events_and_its_own_inbox_state(engine):
    rows = _rows(engine, """
        select relname, privilege
        from pg_class
        cross join unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                                'TRIGGER']) as privilege
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'v')
          and has_table_privilege('fleetspend_app', pg_class.oid, privilege)
        order by 1, 2
    """)
    # support grants and credit notes only through the functions that audit them (0010),
    # budgets and alert delivery settings likewise (0016); a person's inbox state directly
    assert [tuple(row) for row in rows] == [("alert_mutes", "DELETE"), ("alert_mutes", "INSERT"),
                                            ("alert_receipts", "INSERT"),
                                            ("audit_events", "INSERT"),
                                            ("staff_audit_events", "INSERT")]
    columns = _rows(engine, """
        select attrelid::regclass::text, attname from pg_attribute
        where attrelid in (select oid from pg_class
                           where relnamespace = 'public'::regnamespace and relkind = 'r')
          and attnum > 0 and not attisdropped
          and has_column_privilege('fleetspend_app', attrelid, attnum, 'UPDATE')
        order by 1, 2
    """)
    assert [tuple(row) for row in columns] == [("alert_receipts", "acknowledged_at"),
                                               ("alert_receipts", "read_at")]


def test_the_app_role_cannot_read_webhook_secrets(engine):
    rows = _rows(engine, """
        select has_column_privilege('fleetspend_app', 'alert_webhooks', 'secret', 'SELECT'),
               has_column_privilege('fleetspend_app', 'alert_webhooks', 'url', 'SELECT')
    """)
    assert [tuple(row) for row in rows] == [(False, True)]


def test_views_read_with_the_callers_rights(engine):
    rows = _rows(engine, """
        select relname, coalesce('security_invoker=true' = any(reloptions), false) as invoker
        from pg_class where relnamespace = 'public'::regnamespace and relkind in ('v', 'm')
    """)
    assert rows, "the billing migration creates views"
    assert [row.relname for row in rows if not row.invoker] == []


def test_scope_functions_run_as_a_role_that_cannot_log_in_or_bypass(engine):
    rows = _rows(engine, """
        select proname, prosecdef, pg_get_userbyid(proowner) as owner,
               coalesce(array_to_string(proconfig, ','), '') as config
        from pg_proc where pronamespace = 'fleetspend_auth'::regnamespace
    """)
    assert {row.proname for row in rows if row.prosecdef} == {
        "visible_org_ids", "identify", "org_id_for_support", "support_search",
        "support_activity", "open_support_grant", "issue_support_credit",
        "revoke_support_grant", "granted_organizations", "require_admin", "save_budget",
        "archive_budget", "set_alert_recipients", "add_alert_webhook",
        "set_alert_webhook_enabled"}
    assert {row.owner for row in rows} == {"fleetspend_scope"}
    assert all("search_path=pg_catalog, pg_temp" in row.config for row in rows)
    scope_role = _rows(engine, "select rolcanlogin, rolsuper, rolbypassrls from pg_roles "
                               "where rolname = 'fleetspend_scope'")
    assert [tuple(row) for row in scope_role] == [(False, False, False)]


def test_the_app_connects_as_its_own_role(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:secret@db.internal:5432/fleetspend")
    monkeypatch.setenv("REPLICA_URLS", "postgresql://owner:secret@replica1:5432/fleetspend")
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    monkeypatch.delenv("APP_REPLICA_URLS", raising=False)
    monkeypatch.setenv("APP_DATABASE_PASSWORD", "app-secret")
    assert db.app_primary_url() == (
        "postgresql://fleetspend_app:app-secret@db.internal:5432/fleetspend")
    assert db.app_replica_urls() == [
        "postgresql://fleetspend_app:app-secret@replica1:5432/fleetspend"]
    monkeypatch.setenv("APP_REPLICA_URLS", "postgresql://reader@r2/fleetspend")
    assert db.app_replica_urls() == ["postgresql://reader@r2/fleetspend"]
