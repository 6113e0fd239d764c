"""Support's writes and their audit events go in together or not at all.

Until now the app's role could INSERT support grants and credit notes, and the app wrote each
one's audit event beside it in the same transaction: a compromised app role could write either
without its event. Now the app's role has no INSERT on ``support_grants`` or ``credit_notes``
(nor the UPDATE of invoice credits that credit notes made) and writes them only through three
SECURITY DEFINER functions, each of which writes the row and its audit event in one statement:

- ``fleetspend_auth.open_support_grant(org_id, ticket, reason, duration)``: a support engineer
  (the scope's ``staff_user_id``) opens a grant of 15 minutes to 8 hours; event
  ``support.access_opened``;
- ``fleetspend_auth.issue_support_credit(invoice_number, amount_cents, reason, ticket)``: a
  support engineer under an active grant credits a finalized or paid invoice of that
  organization, never more than is left to credit (the invoice row is locked first, so
  concurrent credits queue); event ``support.credit_note_issued``;
- ``fleetspend_auth.revoke_support_grant(grant_id)``: the grant's engineer, or an admin of its
  organization, ends an active grant now; event ``support.access_revoked`` in the revoker's
  name.

Refusals a person can fix raise SQLSTATE FSA01 (grants) or FSC01 (credit notes) with a message
to show; a caller the function is not for gets 42501. ``fleetspend_auth.granted_organizations()``
gives a support engineer the names of the organizations their own grants name, so grants show
a name rather than an id.

The functions are owned by ``fleetspend_scope`` like those of 0004 and 0005; it gets the
privileges and the policies (``scope_writes_*``) these writes need, including what the credit
note triggers of 0002 read and write as the function's owner. Those triggers name their
tables without a schema, and a function's pinned search path holds while they run, so they
now pin ``pg_catalog, public, pg_temp`` themselves.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"

FUNCTIONS = ("open_support_grant(bigint, text, text, interval)",
             "issue_support_credit(text, bigint, text, text)",
             "revoke_support_grant(bigint)",
             "granted_organizations()")

OPEN_GRANT = """
create function fleetspend_auth.open_support_grant(
    grant_org_id bigint, grant_ticket text, grant_reason text, grant_duration interval)
returns table (grant_id bigint, org_id bigint, org_name text, support_ticket text,
               reason text, granted_at timestamptz, expires_at timestamptz)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    engineer bigint := fleetspend_auth.scope_staff_user_id();
    opened record;
begin
    if engineer is null then
        raise exception 'only support engineers open support access' using errcode = '42501';
    end if;
    if coalesce(trim(grant_ticket), '') = '' then
        raise exception 'name the support ticket this access is for' using errcode = 'FSA01';
    end if;
    if coalesce(trim(grant_reason), '') = '' then
        raise exception 'say why you need to look at this organization' using errcode = 'FSA01';
    end if;
    if grant_duration is null
       or grant_duration not between interval '15 minutes' and interval '8 hours' then
        raise exception 'support access lasts between 15 minutes and 8 hours'
            using errcode = 'FSA01';
    end if;
    if not exists (select from public.organizations
                   where organizations.org_id = grant_org_id) then
        raise exception 'there is no organization %', grant_org_id using errcode = 'FSA01';
    end if;
    insert into public.support_grants
        (org_id, staff_user_id, support_ticket, reason, granted_at, expires_at)
    values (grant_org_id, engineer, trim(grant_ticket), trim(grant_reason), now(),
            now() + grant_duration)
    returning support_grants.grant_id, support_grants.support_ticket, support_grants.reason,
              support_grants.granted_at, support_grants.expires_at
    into opened;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (grant_org_id, 'staff', engineer, 'support.access_opened',
            jsonb_build_object('grant_id', opened.grant_id,
                               'support_ticket', opened.support_ticket,
                               'reason', opened.reason, 'expires_at', opened.expires_at));
    return query
    select opened.grant_id, grant_org_id, organizations.name, opened.support_ticket,
           opened.reason, opened.granted_at, opened.expires_at
    from public.organizations
    where organizations.org_id = grant_org_id;
end
$$;
"""

ISSUE_CREDIT = """
create function fleetspend_auth.issue_support_credit(
    credited_invoice_number text, credit_cents bigint, credit_reason text, credit_ticket text)
returns table (credit_note_number text, issued_at timestamptz, invoice_credits_cents bigint,
               invoice_total_cents bigint)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    engineer bigint := fleetspend_auth.scope_staff_user_id();
    scope_grant_id bigint := fleetspend_auth.scope_setting('fleetspend.grant_id');
    billing_orgs bigint[];
    invoice record;
    note record;
begin
    if engineer is null or scope_grant_id is null then
        raise exception 'credit notes are issued by support engineers under a support grant'
            using errcode = '42501';
    end if;
    billing_orgs := fleetspend_auth.visible_org_ids('billing');  -- FSG01 unless active
    if credit_cents is null or credit_cents <= 0 then
        raise exception 'amount_cents must be a positive whole number of cents, got %',
            credit_cents using errcode = 'FSC01';
    end if;
    if coalesce(trim(credit_reason), '') = '' then
        raise exception 'a credit note needs a reason' using errcode = 'FSC01';
    end if;
    if coalesce(trim(credit_ticket), '') = '' then
        raise exception 'a credit note needs the support ticket it answers'
            using errcode = 'FSC01';
    end if;
    select invoices.org_id, invoices.invoice_id, invoices.status, invoices.subtotal_cents,
           invoices.credits_cents
    into invoice
    from public.invoices
    where invoices.invoice_number = credited_invoice_number
      and invoices.org_id = any(billing_orgs)
    for update;
    if not found then
        raise exception 'no invoice numbered %', quote_literal(credited_invoice_number)
            using errcode = 'FSC01';
    end if;
    if invoice.status not in ('finalized', 'paid') then
        raise exception 'invoice % is %; only finalized or paid invoices take credit notes',
            credited_invoice_number, invoice.status using errcode = 'FSC01';
    end if;
    if credit_cents > invoice.subtotal_cents - invoice.credits_cents then
        raise exception 'invoice %: % cents would over-credit it; % of % cents are left to '
                        'credit', credited_invoice_number, credit_cents,
                        invoice.subtotal_cents - invoice.credits_cents, invoice.subtotal_cents
            using errcode = 'FSC01';
    end if;
    insert into public.credit_notes
        (org_id, invoice_id, credit_note_number, amount_cents, reason, support_ticket,
         issued_by)
    select invoice.org_id, invoice.invoice_id,
           format('CN-%s-%s', credited_invoice_number, count(*) + 1), credit_cents,
           trim(credit_reason), trim(credit_ticket), engineer
    from public.credit_notes
    where credit_notes.org_id = invoice.org_id and credit_notes.invoice_id = invoice.invoice_id
    returning credit_notes.credit_note_number, credit_notes.issued_at into note;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (invoice.org_id, 'staff', engineer, 'support.credit_note_issued',
            jsonb_build_object('grant_id', scope_grant_id,
                               'invoice_number', credited_invoice_number,
                               'credit_note_number', note.credit_note_number,
                               'amount_cents', credit_cents, 'reason', trim(credit_reason),
                               'support_ticket', trim(credit_ticket)));
    return query
    select note.credit_note_number, note.issued_at, invoices.credits_cents,
           invoices.total_cents
    from public.invoices
    where invoices.org_id = invoice.org_id and invoices.invoice_id = invoice.invoice_id;
end
$$;
"""

REVOKE_GRANT = """
create function fleetspend_auth.revoke_support_grant(revoked_grant_id bigint)
returns timestamptz
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    identity record := fleetspend_auth.scope_identity();
    target record;
begin
    select support_grants.org_id, support_grants.grant_id, support_grants.staff_user_id,
           support_grants.support_ticket, support_grants.revoked_at, support_grants.expires_at
    into target
    from public.support_grants
    where support_grants.grant_id = revoked_grant_id
    for update;
    if not found or not (
        target.staff_user_id is not distinct from identity.staff_user_id
        or exists (select from public.memberships
                   where memberships.user_id = identity.user_id
                     and memberships.org_id = target.org_id
                     and memberships.role = 'admin')) then
        raise exception 'support grant % is not yours to revoke', revoked_grant_id
            using errcode = '42501';
    end if;
    if target.revoked_at is not null or target.expires_at <= now() then
        raise exception 'support grant % has already ended', revoked_grant_id
            using errcode = 'FSA01';
    end if;
    update public.support_grants set revoked_at = now()
    where support_grants.org_id = target.org_id and support_grants.grant_id = target.grant_id;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (target.org_id,
            case when identity.staff_user_id is null then 'user' else 'staff' end,
            coalesce(identity.staff_user_id, identity.user_id), 'support.access_revoked',
            jsonb_build_object('grant_id', target.grant_id,
                               'support_ticket', target.support_ticket));
    return now();
end
$$;
"""

GRANTED_ORGANIZATIONS = """
create function fleetspend_auth.granted_organizations()
returns table (org_id bigint, org_name text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select organizations.org_id, organizations.name
    from public.organizations
    where organizations.org_id in (
        select support_grants.org_id from public.support_grants
        where support_grants.staff_user_id = fleetspend_auth.scope_staff_user_id())
$$;
"""

# the 0002 triggers a credit note fires, which must find their tables inside the functions
CREDIT_TRIGGERS = ("credit_note_guard()", "credit_note_applied()", "invoice_guard()")

STAFF = "(select fleetspend_auth.scope_staff_user_id())"
MAX_GRANT = "interval '8 hours'"


def _billing_visible() -> str:
    return "org_id = any ((select fleetspend_auth.visible_org_ids('billing'))::bigint[])"


# what the app's role could write before, as 0004 and 0005 allowed it (for the downgrade)
APP_WRITE_POLICIES = [
    f"create policy engineer_opens on support_grants for insert to {APP_ROLE} with check ("
    f"staff_user_id = {STAFF} and revoked_at is null and granted_at = now() "
    f"and expires_at <= now() + {MAX_GRANT})",
    f"create policy engineer_credits on credit_notes for insert to {APP_ROLE} with check ("
    f"issued_by = {STAFF} and {_billing_visible()} and issued_at = now())",
    f"create policy engineer_credits on invoices for update to {APP_ROLE} "
    f"using ({STAFF} is not null and {_billing_visible()}) "
    f"with check ({STAFF} is not null and {_billing_visible()} "
    "and status in ('finalized', 'paid'))",
]

# the functions decide what is written; their owner's policies let it through
SCOPE_WRITES = {
    "support_grants": ("insert", "update"),
    "audit_events": ("insert",),
    "credit_notes": ("select", "insert"),
    "invoices": ("update",),
}


def _scope_policies() -> list[str]:
    statements = []
    for table, commands in SCOPE_WRITES.items():
        for command in commands:
            condition = {"insert": "with check (true)",
                         "update": "using (true) with check (true)",
                         "select": "using (true)"}[command]
            statements.append(f"create policy scope_writes_{command} on {table} "
                              f"for {command} to {SCOPE_ROLE} {condition}")
    return statements


def upgrade() -> None:
    op.execute("drop policy engineer_opens on support_grants")
    op.execute("drop policy engineer_credits on credit_notes")
    op.execute("drop policy engineer_credits on invoices")
    op.execute(f"revoke insert on support_grants, credit_notes from {APP_ROLE}")
    op.execute(f"revoke update (credits_cents, total_cents) on invoices from {APP_ROLE}")

    op.execute(f"grant select, insert on credit_notes to {SCOPE_ROLE}")
    op.execute(f"grant insert, update (revoked_at) on support_grants to {SCOPE_ROLE}")
    op.execute(f"grant insert on audit_events to {SCOPE_ROLE}")
    op.execute(f"grant update (credits_cents, total_cents) on invoices to {SCOPE_ROLE}")
    for statement in _scope_policies():
        op.execute(statement)

    for trigger in CREDIT_TRIGGERS:
        op.execute(f"alter function {trigger} set search_path = pg_catalog, public, pg_temp")
    for function in (OPEN_GRANT, ISSUE_CREDIT, REVOKE_GRANT, GRANTED_ORGANIZATIONS):
        op.execute(function)
    functions = ", ".join(f"fleetspend_auth.{signature}" for signature in FUNCTIONS)
    op.execute(f"revoke execute on function {functions} from public")
    op.execute(f"grant execute on function {functions} to {APP_ROLE}")
    for signature in FUNCTIONS:
        op.execute(f"alter function fleetspend_auth.{signature} owner to {SCOPE_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"drop function fleetspend_auth.{signature}")
    for trigger in CREDIT_TRIGGERS:
        op.execute(f"alter function {trigger} reset search_path")
    for table, commands in SCOPE_WRITES.items():
        for command in commands:
            op.execute(f"drop policy scope_writes_{command} on {table}")
    op.execute(f"revoke update (credits_cents, total_cents) on invoices from {SCOPE_ROLE}")
    op.execute(f"revoke insert on audit_events from {SCOPE_ROLE}")
    op.execute(f"revoke insert, update (revoked_at) on support_grants from {SCOPE_ROLE}")
    op.execute(f"revoke all on credit_notes from {SCOPE_ROLE}")

    op.execute(f"grant update (credits_cents, total_cents) on invoices to {APP_ROLE}")
    op.execute(f"grant insert on support_grants, credit_notes to {APP_ROLE}")
    for statement in APP_WRITE_POLICIES:
        op.execute(statement)
