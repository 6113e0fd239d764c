"""Invoice truth under a real feed: adjustment lines, late usage, and data that cannot be lost.

- ``invoice_lines.adjusts_period_date``: an adjustment line carries the difference of one line
  of an earlier, sealed month whose usage changed afterwards; its quantity and amount may be
  negative (less than billed), and so may a draft's subtotal (credits stay within it).
- ``late_usage_periods``: the months an import changed after their invoice was sealed.
- ``seeded_dataset``: what ``fleetspend seed`` loaded, so it never replaces data it did not
  create, and demo mode runs only on its data.
- TRUNCATE of invoices, lines, allocations, credit notes and audit events is refused while
  they hold sealed invoices or any note or event; only the seed, replacing its own data (or
  told to discard a throw-away database), sets the transaction-local switch that allows it.
  Audit events can no longer be updated or deleted either.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"

# The switch only fleetspend.seed turns on, for its own transaction, after its checks.
TRUNCATE_GUARD = """
create function truncate_guard() returns trigger language plpgsql as $$
declare
    is_protected boolean;
begin
    if current_setting('fleetspend.discard_sealed_data', true) = 'on' then
        return null;
    end if;
    if tg_table_name = 'invoices' then
        select exists (select from invoices where status <> 'draft') into is_protected;
    elsif tg_table_name in ('invoice_lines', 'invoice_allocations') then
        execute format('select exists (select from %I join invoices using (org_id, invoice_id)'
                       ' where invoices.status <> %L)', tg_table_name, 'draft')
            into is_protected;
    else
        execute format('select exists (select from %I)', tg_table_name) into is_protected;
    end if;
    if is_protected then
        raise exception '% holds sealed billing or audit records and cannot be truncated',
            tg_table_name
            using errcode = 'integrity_constraint_violation',
                  hint = 'finalized invoices, their lines and allocations, credit notes and '
                         'audit events are kept for good';
    end if;
    return null;
end
$$;
"""

AUDIT_GUARD = """
create function audit_event_guard() returns trigger language plpgsql as $$
begin
    raise exception 'audit events are never changed or deleted'
        using errcode = 'integrity_constraint_violation';
end
$$;
"""

GUARDED = ("invoices", "invoice_lines", "invoice_allocations", "credit_notes", "audit_events",
           "staff_audit_events")
AUDIT_TABLES = ("audit_events", "staff_audit_events")


def upgrade() -> None:
    op.add_column("invoice_lines", sa.Column("adjusts_period_date", sa.Date()))
    op.drop_constraint(op.f("ck_invoice_lines_quantity_non_negative"), "invoice_lines",
                       type_="check")
    op.create_check_constraint(op.f("ck_invoice_lines_quantity_non_negative"), "invoice_lines",
                               "quantity >= 0 or adjusts_period_date is not null")
    op.create_check_constraint(op.f("ck_invoice_lines_adjusts_a_month"), "invoice_lines",
                               "extract(day from adjusts_period_date) = 1")
    op.drop_constraint(op.f("ck_invoice_allocations_quantity_non_negative"),
                       "invoice_allocations", type_="check")
    op.drop_constraint(op.f("ck_invoices_credits_within_subtotal"), "invoices", type_="check")
    op.create_check_constraint(op.f("ck_invoices_credits_within_subtotal"), "invoices",
                               "credits_cents <= greatest(subtotal_cents, 0)")

    op.create_table(
        "late_usage_periods",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("period_start_date", sa.Date(), nullable=False),
        sa.Column("noted_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("extract(day from period_start_date) = 1",
                           name=op.f("ck_late_usage_periods_period_is_month")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_late_usage_periods_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", "period_start_date",
                                name=op.f("pk_late_usage_periods")),
    )
    op.execute("alter table late_usage_periods enable row level security")
    op.execute("alter table late_usage_periods force row level security")
    op.execute(
        f"create policy app_reads on late_usage_periods for select to {APP_ROLE} using ("
        "org_id = any ((select fleetspend_auth.visible_org_ids('billing'))::bigint[]))")
    op.execute(f"grant select on late_usage_periods to {APP_ROLE}")

    op.create_table(
        "seeded_dataset",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("scale", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("loaded_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("org_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("sealed_invoice_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_seeded_dataset_one_row")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_seeded_dataset")),
    )
    op.execute(f"grant select on seeded_dataset to {APP_ROLE}")

    op.execute(TRUNCATE_GUARD)
    for table in GUARDED:
        op.execute(f"create trigger {table}_truncate_guard before truncate on {table} "
                   "for each statement execute function truncate_guard()")
    op.execute(AUDIT_GUARD)
    for table in AUDIT_TABLES:
        op.execute(f"create trigger {table}_guard before update or delete on {table} "
                   "for each row execute function audit_event_guard()")


def downgrade() -> None:
    for table in AUDIT_TABLES:
        op.execute(f"drop trigger {table}_guard on {table}")
    op.execute("drop function audit_event_guard()")
    for table in GUARDED:
        op.execute(f"drop trigger {table}_truncate_guard on {table}")
    op.execute("drop function truncate_guard()")
    op.drop_table("seeded_dataset")
    op.drop_table("late_usage_periods")
    op.drop_constraint(op.f("ck_invoices_credits_within_subtotal"), "invoices", type_="check")
    op.create_check_constraint(op.f("ck_invoices_credits_within_subtotal"), "invoices",
                               "credits_cents <= subtotal_cents")
    op.create_check_constraint(op.f("ck_invoice_allocations_quantity_non_negative"),
                               "invoice_allocations", "quantity >= 0")
    op.drop_constraint(op.f("ck_invoice_lines_adjusts_a_month"), "invoice_lines", type_="check")
    op.drop_constraint(op.f("ck_invoice_lines_quantity_non_negative"), "invoice_lines",
                       type_="check")
    op.create_check_constraint(op.f("ck_invoice_lines_quantity_non_negative"), "invoice_lines",
                               "quantity >= 0")
    op.drop_column("invoice_lines", "adjusts_period_date")
