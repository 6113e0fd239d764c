"""Database roles and row-level security: the app reads only what its caller's scope allows.

- ``fleetspend_app``: the login role every page uses (APP_DATABASE_URL / APP_REPLICA_URLS). It
  owns nothing, is no superuser and cannot bypass row-level security. It may SELECT the tables
  and views pages read, and INSERT (never UPDATE or DELETE) support grants and audit events.
- ``fleetspend_scope``: a role nobody logs in as. It owns the SECURITY DEFINER functions in
  schema ``fleetspend_auth`` that turn the caller's scope into the organizations it may see;
  its own policies let it read memberships and grants, so the policies never recurse.

Every tenant table (one with ``org_id``) has row-level security enabled and FORCED (the table
owner is bound too, unless it is a superuser or BYPASSRLS maintenance role). The scope is read
from settings local to the transaction (``set_config(name, value, true)``):

- ``fleetspend.user_id``: a customer; ``fleetspend.staff_user_id``: a support engineer;
- ``fleetspend.grant_id``: the support grant a support engineer is working under;
- ``fleetspend.org_ids`` (optional, comma-separated): narrows a view to some of the
  organizations the identity may see; it never widens them.

Neither identity set (the setting missing or empty) raises an error as soon as a policy is
asked about a row: the policies fail closed rather than return nothing or everything (a
statement that finds no candidate row at all may end before asking, showing nothing). A grant that is expired, revoked, someone else's or
not (yet) on this server raises too, with SQLSTATE FSG01 so the app can wait for a replica
to catch up with a grant it has just written. Three levels of access, each a list of org ids:

- ``usage``: organizations, apps, machines, usage, rollups - members and admins of the org,
  and support staff whose active grant names it;
- ``billing``: invoices and their lines, allocations and credit notes, teams and members -
  admins of the org and support staff whose active grant names it;
- ``oversight``: support grants and audit events of the org - its admins only.

Views are switched to ``security_invoker`` so they read with the caller's rights and policies.
Roles are cluster-wide and other databases on the server may use them, so the downgrade drops
this database's policies, functions and grants but leaves the two roles in place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"

# tenant tables by the access level that reads them (every table with org_id is in one)
USAGE_TABLES = (
    "organizations", "apps", "machines", "machine_events", "machine_runs", "volumes",
    "machine_usage", "volume_usage", "rollup_resource_daily", "rollup_resource_monthly",
    "rollup_usage_daily", "rollup_usage_monthly", "rollup_pending_days", "rollup_org_daily",
)
BILLING_TABLES = (
    "invoices", "invoice_lines", "invoice_allocations", "credit_notes", "teams", "memberships",
)
OVERSIGHT_TABLES = ("support_grants", "audit_events")
# people: not tenant tables, but nobody should list every customer's or engineer's email
PEOPLE_TABLES = ("users", "staff_users")
# global reference data, readable by the app without a scope
REFERENCE_TABLES = (
    "egress_groups", "regions", "cpu_kinds", "presets", "products", "price_lists", "prices",
    "rollup_state",
)
# every view in public (price_book, rated_usage, runtime_rates, ...) reads with the caller's
# rights and is readable by the app; later migrations that add views must do the same
EVERY_VIEW = """
do $$
declare
    view_name name;
begin
    for view_name in
        select relname from pg_class
        where relnamespace = 'public'::regnamespace and relkind = 'v'
    loop
        execute format('alter view %I set (security_invoker = {invoker})', view_name);
        execute format('{privilege} select on %I {direction} fleetspend_app', view_name);
    end loop;
end
$$;
"""
# the scope functions read these as fleetspend_scope
SCOPE_READS = ("memberships", "support_grants", "users", "staff_users", "organizations")

# the longest support grant the app may write
MAX_GRANT = "interval '8 hours'"

CREATE_ROLES = f"""
do $$
begin
    begin
        create role {APP_ROLE} login nosuperuser nocreatedb nocreaterole nobypassrls
            noreplication noinherit;
    exception when duplicate_object or unique_violation then null;
    end;
    begin
        create role {SCOPE_ROLE} nologin nosuperuser nocreatedb nocreaterole nobypassrls
            noreplication;
    exception when duplicate_object or unique_violation then null;
    end;
end
$$;
"""

SCOPE_FUNCTIONS = """
create schema fleetspend_auth;
comment on schema fleetspend_auth is
  'Turns the caller''s per-transaction scope into what row-level security lets it see.';

create function fleetspend_auth.scope_setting(setting_name text) returns bigint
language plpgsql stable
set search_path = pg_catalog, pg_temp
as $$
declare
    raw text := nullif(trim(current_setting(setting_name, true)), '');
begin
    if raw is null then
        return null;
    end if;
    if raw !~ '^[0-9]{1,18}$' then
        raise exception 'setting % must be a whole number, got %', setting_name, raw
            using errcode = '22023';
    end if;
    return raw::bigint;
end
$$;

-- the caller's identity; raises unless exactly one of user and staff member is set
create function fleetspend_auth.scope_identity(out user_id bigint, out staff_user_id bigint)
language plpgsql stable
set search_path = pg_catalog, pg_temp
as $$
begin
    user_id := fleetspend_auth.scope_setting('fleetspend.user_id');
    staff_user_id := fleetspend_auth.scope_setting('fleetspend.staff_user_id');
    if user_id is null and staff_user_id is null then
        raise exception 'no caller scope is set in this transaction, so no tenant rows are readable'
            using errcode = '42501',
                  hint = 'set fleetspend.user_id or fleetspend.staff_user_id with '
                         'set_config(name, value, true) at the start of the transaction';
    end if;
    if user_id is not null and staff_user_id is not null then
        raise exception 'a scope names a customer or a support engineer, never both'
            using errcode = '42501';
    end if;
end
$$;

create function fleetspend_auth.scope_user_id() returns bigint
language sql stable
set search_path = pg_catalog, pg_temp
as $$ select user_id from fleetspend_auth.scope_identity() $$;

create function fleetspend_auth.scope_staff_user_id() returns bigint
language sql stable
set search_path = pg_catalog, pg_temp
as $$ select staff_user_id from fleetspend_auth.scope_identity() $$;

-- the organizations the scope may see at one access level: 'usage', 'billing' or 'oversight'
create function fleetspend_auth.visible_org_ids(access text) returns bigint[]
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    identity record := fleetspend_auth.scope_identity();
    scope_grant_id bigint := fleetspend_auth.scope_setting('fleetspend.grant_id');
    narrowed text := nullif(trim(current_setting('fleetspend.org_ids', true)), '');
    visible bigint[];
begin
    if access not in ('usage', 'billing', 'oversight') then
        raise exception 'unknown access level %', access using errcode = '22023';
    end if;
    if identity.user_id is not null then
        if scope_grant_id is not null then
            raise exception 'support grants are for support engineers, not customers'
                using errcode = '42501';
        end if;
        select coalesce(array_agg(memberships.org_id), '{}') into visible
        from public.memberships
        where memberships.user_id = identity.user_id
          and (access = 'usage' or memberships.role = 'admin');
    elsif scope_grant_id is null then
        visible := '{}';
    else
        select array[support_grants.org_id] into visible
        from public.support_grants
        where support_grants.grant_id = scope_grant_id
          and support_grants.staff_user_id = identity.staff_user_id
          and support_grants.revoked_at is null
          and support_grants.expires_at > now();
        if visible is null then
            raise exception 'support grant % is not active for this engineer here: it has '
                            'expired, was revoked, is someone else''s or has not reached this '
                            'server yet', scope_grant_id
                using errcode = 'FSG01';
        end if;
        if access = 'oversight' then  -- support never reads the oversight of its own access
            visible := '{}';
        end if;
    end if;
    if narrowed is not null then
        if narrowed !~ '^[0-9]{1,18}(,[0-9]{1,18})*$' then
            raise exception 'fleetspend.org_ids must be comma-separated org ids, got %', narrowed
                using errcode = '22023';
        end if;
        visible := array(select unnest(visible)
                         intersect
                         select unnest(string_to_array(narrowed, ',')::bigint[]));
    end if;
    return visible;
end
$$;

-- who signs in: a customer (user) or a support engineer (staff), by email; no scope needed
create function fleetspend_auth.identify(email text)
returns table (actor_kind text, actor_id bigint, name text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select 'user', users.user_id, users.name from public.users
    where lower(users.email) = lower(identify.email)
    union all
    select 'staff', staff_users.staff_user_id, staff_users.name from public.staff_users
    where lower(staff_users.email) = lower(identify.email)
$$;

-- the organization a support engineer names in a ticket, so a grant can be written for it;
-- only support engineers may ask, and only the id comes back
create function fleetspend_auth.org_id_for_support(slug text) returns bigint
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    named_org_id bigint;
begin
    if fleetspend_auth.scope_staff_user_id() is null then
        raise exception 'only support engineers look organizations up by slug'
            using errcode = '42501';
    end if;
    select organizations.org_id into named_org_id from public.organizations
    where organizations.slug = org_id_for_support.slug;
    return named_org_id;
end
$$;
"""

AUTH_FUNCTIONS = (
    "scope_setting(text)", "scope_identity()", "scope_user_id()", "scope_staff_user_id()",
    "visible_org_ids(text)", "identify(text)", "org_id_for_support(text)",
)


def _visible(access: str) -> str:
    # the scalar subquery makes the planner run the function once per statement (an InitPlan);
    # the cast keeps ANY reading it as one array, not as a set of rows
    return f"org_id = any ((select fleetspend_auth.visible_org_ids('{access}'))::bigint[])"


def _policies() -> list[str]:
    statements = []
    for access, tables in (("usage", USAGE_TABLES), ("billing", BILLING_TABLES)):
        for table in tables:
            extra = ""
            if table == "memberships":  # everyone sees their own memberships
                extra = " or user_id = (select fleetspend_auth.scope_user_id())"
            statements.append(
                f"create policy app_reads on {table} for select to {APP_ROLE} "
                f"using ({_visible(access)}{extra})"
            )
    statements += [
        f"create policy app_reads on support_grants for select to {APP_ROLE} using "
        f"({_visible('oversight')} "
        "or staff_user_id = (select fleetspend_auth.scope_staff_user_id()))",
        f"create policy engineer_opens on support_grants for insert to {APP_ROLE} with check ("
        "staff_user_id = (select fleetspend_auth.scope_staff_user_id()) "
        "and revoked_at is null and granted_at = now() "
        f"and expires_at <= now() + {MAX_GRANT})",
        f"create policy app_reads on audit_events for select to {APP_ROLE} "
        f"using ({_visible('oversight')})",
        f"create policy engineer_records on audit_events for insert to {APP_ROLE} with check ("
        "actor_kind = 'staff' "
        "and actor_id = (select fleetspend_auth.scope_staff_user_id()) "
        f"and {_visible('usage')} and occurred_at = now())",
        "create policy app_reads on users for select to fleetspend_app using ("
        "user_id = (select fleetspend_auth.scope_user_id()) "
        "or user_id in (select memberships.user_id from memberships))",
        "create policy app_reads on staff_users for select to fleetspend_app using ("
        "staff_user_id = (select fleetspend_auth.scope_staff_user_id()) "
        "or staff_user_id in (select support_grants.staff_user_id from support_grants))",
    ]
    statements += [
        f"create policy scope_reads on {table} for select to {SCOPE_ROLE} using (true)"
        for table in SCOPE_READS
    ]
    return statements


def _protected_tables() -> tuple[str, ...]:
    return USAGE_TABLES + BILLING_TABLES + OVERSIGHT_TABLES + PEOPLE_TABLES


def upgrade() -> None:
    op.execute(CREATE_ROLES)
    op.execute(SCOPE_FUNCTIONS)
    functions = ", ".join(f"fleetspend_auth.{signature}" for signature in AUTH_FUNCTIONS)
    op.execute("revoke all on schema fleetspend_auth from public")
    op.execute(f"grant usage on schema fleetspend_auth to {APP_ROLE}, {SCOPE_ROLE}")
    op.execute(f"revoke execute on function {functions} from public")
    op.execute(f"grant execute on function {functions} to {APP_ROLE}, {SCOPE_ROLE}")
    for signature in AUTH_FUNCTIONS:
        op.execute(f"alter function fleetspend_auth.{signature} owner to {SCOPE_ROLE}")
    op.execute(f"grant usage on schema public to {APP_ROLE}, {SCOPE_ROLE}")
    op.execute(f"grant select on {', '.join(SCOPE_READS)} to {SCOPE_ROLE}")

    for table in _protected_tables():
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
    for statement in _policies():
        op.execute(statement)
    op.execute(EVERY_VIEW.format(invoker="true", privilege="grant", direction="to"))

    readable = _protected_tables() + REFERENCE_TABLES
    op.execute(f"grant select on {', '.join(readable)} to {APP_ROLE}")
    op.execute(f"grant insert on {', '.join(OVERSIGHT_TABLES)} to {APP_ROLE}")


def downgrade() -> None:
    readable = _protected_tables() + REFERENCE_TABLES
    op.execute(f"revoke all on {', '.join(readable)} from {APP_ROLE}")
    op.execute(f"revoke all on {', '.join(SCOPE_READS)} from {SCOPE_ROLE}")
    op.execute(EVERY_VIEW.format(invoker="false", privilege="revoke", direction="from"))
    for table in _protected_tables():
        for policy in ("app_reads", "engineer_opens", "engineer_records", "scope_reads"):
            op.execute(f"drop policy if exists {policy} on {table}")
        op.execute(f"alter table {table} no force row level security")
        op.execute(f"alter table {table} disable row level security")
    op.execute("drop schema fleetspend_auth cascade")
    op.execute(f"revoke usage on schema public from {APP_ROLE}, {SCOPE_ROLE}")
