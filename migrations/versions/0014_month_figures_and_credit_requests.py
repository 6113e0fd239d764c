"""One figure per month, and a credit note requested twice is issued once.

- ``month_figures``: the (organization, month)s whose meter, org and narrow rollups carry an
  invoice's cents rather than rated amounts (``fleetspend.figures`` writes both). A tenant
  table read at the billing level, like the invoices it names.
- ``credit_notes.request_key``: the request a support engineer confirmed in the dispute
  workbench, unique per organization. ``fleetspend_auth.issue_support_credit`` (0010) takes it
  as a fifth argument: a request already issued returns its note and credits nothing more,
  whether the second submit comes after the first committed or while it is still running
  (the invoice row lock queues it, the unique key is the backstop).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05 11:30:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"
OLD_SIGNATURE = "issue_support_credit(text, bigint, text, text)"
NEW_SIGNATURE = "issue_support_credit(text, bigint, text, text, text)"

ISSUE_CREDIT = """
create function fleetspend_auth.issue_support_credit(
    credited_invoice_number text, credit_cents bigint, credit_reason text, credit_ticket text,
    credit_request_key text)
returns table (credit_note_number text, issued_at timestamptz, invoice_credits_cents bigint,
               invoice_total_cents bigint, is_new boolean)
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
    earlier record;
begin
    if engineer is null or scope_grant_id is null then
        raise exception 'credit notes are issued by support engineers under a support grant'
            using errcode = '42501';
    end if;
    billing_orgs := fleetspend_auth.visible_org_ids('billing');  -- FSG01 unless active
    if coalesce(trim(credit_request_key), '') = '' then
        raise exception 'a credit note request needs its key' using errcode = 'FSC01';
    end if;
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
    -- after the row lock: a submit of the same request that got there first has committed
    select credit_notes.credit_note_number, credit_notes.issued_at, credit_notes.invoice_id
    into earlier
    from public.credit_notes
    where credit_notes.org_id = invoice.org_id
      and credit_notes.request_key = credit_request_key;
    if found then
        if earlier.invoice_id <> invoice.invoice_id then
            raise exception 'this credit note request was issued against another invoice'
                using errcode = 'FSC01';
        end if;
        return query
        select earlier.credit_note_number, earlier.issued_at, invoices.credits_cents,
               invoices.total_cents, false
        from public.invoices
        where invoices.org_id = invoice.org_id and invoices.invoice_id = invoice.invoice_id;
        return;
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
         issued_by, request_key)
    select invoice.org_id, invoice.invoice_id,
           format('CN-%s-%s', credited_invoice_number, count(*) + 1), credit_cents,
           trim(credit_reason), trim(credit_ticket), engineer, credit_request_key
    from public.credit_notes
    where credit_notes.org_id = invoice.org_id and credit_notes.invoice_id = invoice.invoice_id
    returning credit_notes.credit_note_number, credit_notes.issued_at into note;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (invoice.org_id, 'staff', engineer, 'support.credit_note_issued',
            jsonb_build_object('grant_id', scope_grant_id,
                               'invoice_number', credited_invoice_number,
                               'credit_note_number', note.credit_note_number,
                               'amount_cents', credit_cents, 'reason', trim(credit_reason),
                               'support_ticket', trim(credit_ticket),
                               'request_key', credit_request_key));
    return query
    select note.credit_note_number, note.issued_at, invoices.credits_cents,
           invoices.total_cents, true
    from public.invoices
    where invoices.org_id = invoice.org_id and invoices.invoice_id = invoice.invoice_id;
end
$$;
"""


def _revision_0010() -> ModuleType:
    """Migration 0010's module, whose function the downgrade puts back."""
    path = Path(__file__).with_name("0010_audited_support_writes.py")
    spec = importlib.util.spec_from_file_location("revision_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.create_table(
        "month_figures",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("month_date", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("extract(day from month_date) = 1",
                           name=op.f("ck_month_figures_month_start")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_month_figures_org_id_organizations")),
        sa.ForeignKeyConstraint(["org_id", "invoice_id"],
                                ["invoices.org_id", "invoices.invoice_id"],
                                name=op.f("fk_month_figures_org_id_invoices")),
        sa.PrimaryKeyConstraint("org_id", "month_date", name=op.f("pk_month_figures")),
    )
    op.execute("alter table month_figures enable row level security")
    op.execute("alter table month_figures force row level security")
    op.execute(
        f"create policy app_reads on month_figures for select to {APP_ROLE} using ("
        "org_id = any ((select fleetspend_auth.visible_org_ids('billing'))::bigint[]))")
    op.execute(f"grant select on month_figures to {APP_ROLE}")

    op.add_column("credit_notes", sa.Column("request_key", sa.Text(), nullable=True))
    op.create_unique_constraint(op.f("uq_credit_notes_org_id_request_key"), "credit_notes",
                                ["org_id", "request_key"])
    op.execute(f"drop function fleetspend_auth.{OLD_SIGNATURE}")
    op.execute(ISSUE_CREDIT)
    op.execute(f"revoke execute on function fleetspend_auth.{NEW_SIGNATURE} from public")
    op.execute(f"grant execute on function fleetspend_auth.{NEW_SIGNATURE} to {APP_ROLE}")
    op.execute(f"alter function fleetspend_auth.{NEW_SIGNATURE} owner to {SCOPE_ROLE}")


def downgrade() -> None:
    op.execute(f"drop function fleetspend_auth.{NEW_SIGNATURE}")
    op.execute(_revision_0010().ISSUE_CREDIT)
    op.execute(f"revoke execute on function fleetspend_auth.{OLD_SIGNATURE} from public")
    op.execute(f"grant execute on function fleetspend_auth.{OLD_SIGNATURE} to {APP_ROLE}")
    op.execute(f"alter function fleetspend_auth.{OLD_SIGNATURE} owner to {SCOPE_ROLE}")
    op.drop_constraint(op.f("uq_credit_notes_org_id_request_key"), "credit_notes",
                       type_="unique")
    op.drop_column("credit_notes", "request_key")
    op.execute(f"revoke all on month_figures from {APP_ROLE}")
    op.drop_table("month_figures")
