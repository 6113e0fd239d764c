"""Support console: cross-organization search, credit notes from support, the support audit trail.

- ``staff_audit_events``: what support engineers do outside any one organization's data (each
  view of a console page, each search). Not a tenant table: no org_id. The app may only INSERT
  an event in the engineer's own name, at now(); nobody reads it except through
  ``support_activity`` below. Events inside an organization stay in ``audit_events``.
- ``fleetspend_auth.support_search(term, row_limit)``: organizations by slug or name,
  invoices by number, apps by name and machines by id, exact or prefix, returning directory
  facts only (kind, identifier, a short label, the organization's id, slug and name). A
  support engineer searches the whole directory; a customer only the organizations they belong
  to (invoices only where they are an admin), so it never widens what a customer may see.
- ``fleetspend_auth.support_activity(...)``: every support engineer's audited actions, in
  organizations (``audit_events`` written by staff) and outside them (``staff_audit_events``),
  newest first, filtered by time (UTC), engineer email, organization slug, action and
  ticket. Support
  engineers only; customers read their own organization's events through the 0004 policies.
- credit notes from the support console: the app may INSERT ``credit_notes`` as a support
  engineer under an active grant for that organization, in their own name and at now(), and
  may UPDATE only ``invoices.credits_cents`` and ``total_cents`` (what the credit note trigger
  of 0002 writes, and what ``SELECT ... FOR UPDATE`` needs), only for that organization and
  only leaving the invoice finalized or paid. The invoice guard of 0002 still keeps credits
  equal to the sum of credit notes and the check constraint keeps credits within the subtotal.

The new functions are owned by ``fleetspend_scope`` like those of 0004, which now also reads
audit events, invoices, apps and machines (its policies read every row; the functions decide
what leaves them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"

# what the search and activity functions read as fleetspend_scope, beyond what 0004 gave it
SCOPE_READS = ("audit_events", "invoices", "apps", "machines", "staff_audit_events")
FUNCTIONS = ("support_search(text, integer)",
             "support_activity(timestamptz, timestamptz, text, text, text, text, integer)")

SEARCH_FUNCTION = """
create function fleetspend_auth.support_search(term text, row_limit integer)
returns table (kind text, identifier text, label text, org_id bigint, org_slug text,
               org_name text, is_exact boolean)
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    needle text := lower(trim(term));
    usage_orgs bigint[];
    billing_orgs bigint[];
begin
    if needle is null or length(needle) < 2 then
        raise exception 'search for at least 2 characters' using errcode = '22023';
    end if;
    if row_limit is null or row_limit not between 1 and 100 then
        raise exception 'row_limit must be between 1 and 100' using errcode = '22023';
    end if;
    if fleetspend_auth.scope_staff_user_id() is not null then
        -- support engineers search the whole directory
        usage_orgs := array(select organizations.org_id from public.organizations);
        billing_orgs := usage_orgs;
    else
        usage_orgs := fleetspend_auth.visible_org_ids('usage');
        billing_orgs := fleetspend_auth.visible_org_ids('billing');
    end if;
    return query
    with found as (
        (select 'organization' as kind, organizations.slug as identifier,
                organizations.name as label, organizations.org_id,
                organizations.slug = needle or lower(organizations.name) = needle as is_exact
         from public.organizations
         where organizations.org_id = any(usage_orgs)
           and (starts_with(organizations.slug, needle)
                or starts_with(lower(organizations.name), needle))
         order by 5 desc, 2
         limit row_limit)
        union all
        (select 'invoice', invoices.invoice_number,
                to_char(invoices.period_start_date, 'YYYY-MM') || ', ' || invoices.status,
                invoices.org_id, lower(invoices.invoice_number) = needle
         from public.invoices
         where invoices.org_id = any(billing_orgs)
           and starts_with(lower(invoices.invoice_number), needle)
         order by 5 desc, 2 desc
         limit row_limit)
        union all
        (select 'app', apps.name, null, apps.org_id, lower(apps.name) = needle
         from public.apps
         where apps.org_id = any(usage_orgs)
           and starts_with(lower(apps.name), needle)
         order by 5 desc, 2
         limit row_limit)
        union all
        (select 'machine', machines.machine_id, 'app ' || apps.name, machines.org_id,
                machines.machine_id = needle
         from public.machines
         join public.apps on apps.org_id = machines.org_id and apps.app_id = machines.app_id
         where machines.org_id = any(usage_orgs)
           and starts_with(machines.machine_id, needle)
         order by 5 desc, 2
         limit row_limit)
    )
    select found.kind, found.identifier, found.label, found.org_id, organizations.slug,
           organizations.name, found.is_exact
    from found
    join public.organizations on organizations.org_id = found.org_id
    order by found.is_exact desc, found.kind, found.identifier;
end
$$;
"""

ACTIVITY_FUNCTION = """
create function fleetspend_auth.support_activity(
    since timestamptz, until timestamptz, engineer text, organization_slug text,
    action_name text, ticket text, row_limit integer)
returns table (occurred_at timestamptz, staff_user_id bigint, engineer_name text,
               engineer_email text, action text, org_id bigint, org_slug text,
               support_ticket text, detail jsonb)
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    if fleetspend_auth.scope_staff_user_id() is null then
        raise exception 'only support engineers read the support audit trail'
            using errcode = '42501';
    end if;
    if row_limit is null or row_limit not between 1 and 10000 then
        raise exception 'row_limit must be between 1 and 10000' using errcode = '22023';
    end if;
    return query
    with events as (
        select audit_events.occurred_at, audit_events.actor_id as staff_user_id,
               audit_events.action, audit_events.org_id,
               coalesce(audit_events.detail ->> 'support_ticket',
                        support_grants.support_ticket) as support_ticket,
               audit_events.detail
        from public.audit_events
        left join public.support_grants
          on support_grants.org_id = audit_events.org_id
         and support_grants.grant_id = case
                 when audit_events.detail ->> 'grant_id' ~ '^[0-9]{1,18}$'
                     then (audit_events.detail ->> 'grant_id')::bigint end
        where audit_events.actor_kind = 'staff'
        union all
        select staff_audit_events.occurred_at, staff_audit_events.staff_user_id,
               staff_audit_events.action, null, null, staff_audit_events.detail
        from public.staff_audit_events
    )
    select events.occurred_at, events.staff_user_id, staff_users.name, staff_users.email,
           events.action, events.org_id, organizations.slug, events.support_ticket,
           events.detail
    from events
    join public.staff_users on staff_users.staff_user_id = events.staff_user_id
    left join public.organizations on organizations.org_id = events.org_id
    where (since is null or events.occurred_at >= since)
      and (until is null or events.occurred_at < until)
      and (engineer is null or lower(staff_users.email) = lower(trim(engineer)))
      and (organization_slug is null or organizations.slug = lower(trim(organization_slug)))
      and (action_name is null or events.action = action_name)
      and (ticket is null or events.support_ticket = trim(ticket))
    order by events.occurred_at desc, events.action
    limit row_limit;
end
$$;
"""


def _billing_visible() -> str:
    return "org_id = any ((select fleetspend_auth.visible_org_ids('billing'))::bigint[])"


STAFF = "(select fleetspend_auth.scope_staff_user_id())"

POLICIES = [
    f"create policy engineer_records on staff_audit_events for insert to {APP_ROLE} "
    f"with check (staff_user_id = {STAFF} and occurred_at = now())",
    f"create policy engineer_credits on credit_notes for insert to {APP_ROLE} with check ("
    f"issued_by = {STAFF} and {_billing_visible()} and issued_at = now())",
    f"create policy engineer_credits on invoices for update to {APP_ROLE} "
    f"using ({STAFF} is not null and {_billing_visible()}) "
    f"with check ({STAFF} is not null and {_billing_visible()} "
    "and status in ('finalized', 'paid'))",
    *(f"create policy scope_reads on {table} for select to {SCOPE_ROLE} using (true)"
      for table in SCOPE_READS),
]


def upgrade() -> None:
    op.create_table(
        "staff_audit_events",
        sa.Column("staff_audit_event_id", sa.BigInteger(), sa.Identity(always=False),
                  nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.staff_user_id"],
                                name=op.f("fk_staff_audit_events_staff_user_id_staff_users")),
        sa.PrimaryKeyConstraint("staff_audit_event_id", name=op.f("pk_staff_audit_events")),
    )
    op.create_index(op.f("ix_staff_audit_events_occurred_at"), "staff_audit_events",
                    ["occurred_at"])
    op.execute("alter table staff_audit_events enable row level security")
    op.execute("alter table staff_audit_events force row level security")

    op.execute(SEARCH_FUNCTION)
    op.execute(ACTIVITY_FUNCTION)
    functions = ", ".join(f"fleetspend_auth.{signature}" for signature in FUNCTIONS)
    op.execute(f"revoke execute on function {functions} from public")
    op.execute(f"grant execute on function {functions} to {APP_ROLE}")
    for signature in FUNCTIONS:
        op.execute(f"alter function fleetspend_auth.{signature} owner to {SCOPE_ROLE}")
    op.execute(f"grant select on {', '.join(SCOPE_READS)} to {SCOPE_ROLE}")

    for statement in POLICIES:
        op.execute(statement)
    op.execute(f"grant insert on staff_audit_events, credit_notes to {APP_ROLE}")
    op.execute(f"grant update (credits_cents, total_cents) on invoices to {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"revoke update (credits_cents, total_cents) on invoices from {APP_ROLE}")
    op.execute(f"revoke insert on credit_notes from {APP_ROLE}")
    op.execute("drop policy engineer_credits on invoices")
    op.execute("drop policy engineer_credits on credit_notes")
    for table in SCOPE_READS:
        if table != "staff_audit_events":  # dropped with the table
            op.execute(f"drop policy scope_reads on {table}")
            op.execute(f"revoke all on {table} from {SCOPE_ROLE}")
    for signature in FUNCTIONS:
        op.execute(f"drop function fleetspend_auth.{signature}")
    op.drop_index(op.f("ix_staff_audit_events_occurred_at"), table_name="staff_audit_events")
    op.drop_table("staff_audit_events")
