"""Rating and invoice rules: the rated_usage view, wider precise amounts, immutability triggers.

- ``price_book``: one row per price list and egress group with every price component as a
  column, so rating joins one small row instead of looking up components one by one.
- ``runtime_rates``: the machine runtime price per second by price list, region and preset,
  with ``runtime_unit_price(...)`` adding the memory above what the preset includes.
- ``rated_usage``: every hourly usage row priced with the price list in force at that hour
  (see fleetspend/billing/rating.py for the formula and the rounding rule). Invoices and the
  read path's daily rollups both aggregate this view, so they agree by construction.
- invoice lines and allocations keep the consumed quantity beside the pricing quantity, and
  precise amounts with 18 decimals (a marked-up per-second price is exact at that scale).
- triggers make finalized invoices, their lines and allocations, and credit notes immutable;
  the only change a sealed invoice accepts is its credits (kept equal to its credit notes by
  the credit note trigger) and the status moves finalized -> paid or finalized -> void.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PRECISE = sa.Numeric(24, 12)
OLD_QUANTITY = sa.Numeric(24, 6)
PRECISE = sa.Numeric(30, 18)


def upgrade() -> None:
    op.alter_column("invoice_lines", "quantity", type_=PRECISE, existing_type=OLD_QUANTITY)
    op.alter_column("invoice_lines", "unit_price", type_=PRECISE, existing_type=OLD_PRECISE)
    op.alter_column("invoice_lines", "amount_precise", type_=PRECISE, existing_type=OLD_PRECISE)
    op.add_column("invoice_lines", sa.Column("consumed_quantity", OLD_QUANTITY, nullable=False))
    op.add_column("invoice_lines", sa.Column("consumed_unit", sa.Text(), nullable=False))
    op.alter_column("invoice_allocations", "quantity", type_=PRECISE, existing_type=OLD_QUANTITY)
    op.add_column(
        "invoice_allocations", sa.Column("consumed_quantity", OLD_QUANTITY, nullable=False)
    )
    op.add_column("invoice_allocations", sa.Column("amount_precise", PRECISE, nullable=False))
    op.create_index(
        op.f("ix_invoice_allocations_org_id_resource_id"),
        "invoice_allocations",
        ["org_id", "resource_id"],
    )
    op.create_index(
        op.f("ix_credit_notes_org_id_invoice_id"), "credit_notes", ["org_id", "invoice_id"]
    )
    op.create_check_constraint(
        op.f("ck_invoices_credits_within_subtotal"), "invoices", "credits_cents <= subtotal_cents"
    )
    op.create_check_constraint(
        op.f("ck_prices_group_prices_egress_only"),
        "prices",
        "component like 'egress%' or egress_group = 'any'",
    )
    op.execute(PRICE_BOOK_VIEW)
    op.execute(RUNTIME_RATES)
    op.execute(RATED_USAGE_VIEW)
    op.execute(INVOICE_GUARD)
    op.execute(INVOICE_CONTENT_GUARD)
    op.execute(CREDIT_NOTE_RULES)


def downgrade() -> None:
    op.execute("drop function credit_note_applied() cascade")
    op.execute("drop function credit_note_guard() cascade")
    op.execute("drop function invoice_content_guard() cascade")
    op.execute("drop function invoice_guard() cascade")
    op.execute("drop view rated_usage")
    op.execute("drop function runtime_unit_price(numeric, numeric, integer, integer)")
    op.execute("drop view runtime_rates")
    op.execute("drop view price_book")
    op.drop_constraint(op.f("ck_prices_group_prices_egress_only"), "prices", type_="check")
    op.drop_constraint(op.f("ck_invoices_credits_within_subtotal"), "invoices", type_="check")
    op.drop_index(op.f("ix_credit_notes_org_id_invoice_id"), table_name="credit_notes")
    op.drop_index(
        op.f("ix_invoice_allocations_org_id_resource_id"), table_name="invoice_allocations"
    )
    op.drop_column("invoice_allocations", "amount_precise")
    op.drop_column("invoice_allocations", "consumed_quantity")
    op.alter_column("invoice_allocations", "quantity", type_=OLD_QUANTITY, existing_type=PRECISE)
    op.drop_column("invoice_lines", "consumed_unit")
    op.drop_column("invoice_lines", "consumed_quantity")
    op.alter_column("invoice_lines", "amount_precise", type_=OLD_PRECISE, existing_type=PRECISE)
    op.alter_column("invoice_lines", "unit_price", type_=OLD_PRECISE, existing_type=PRECISE)
    op.alter_column("invoice_lines", "quantity", type_=OLD_QUANTITY, existing_type=PRECISE)


PRICE_BOOK_VIEW = """
create view price_book as
select price_lists.price_list_id,
       price_lists.effective_from,
       price_lists.effective_until,
       egress_groups.egress_group,
       max(prices.unit_price) filter (where prices.component = 'vcpu_shared') as vcpu_shared,
       max(prices.unit_price) filter (where prices.component = 'vcpu_performance')
           as vcpu_performance,
       max(prices.unit_price) filter (where prices.component = 'ram_extra') as ram_extra,
       max(prices.unit_price) filter (where prices.component = 'stopped_rootfs')
           as stopped_rootfs,
       max(prices.unit_price) filter (where prices.component = 'volume') as volume,
       max(prices.unit_price) filter (where prices.component = 'dedicated_ipv4')
           as dedicated_ipv4,
       max(prices.unit_price) filter (where prices.component = 'egress_internet')
           as egress_internet,
       max(prices.unit_price) filter (where prices.component = 'egress_private')
           as egress_private
from price_lists
cross join egress_groups
join prices
  on prices.price_list_id = price_lists.price_list_id
 and prices.egress_group in ('any', egress_groups.egress_group)
group by price_lists.price_list_id, price_lists.effective_from, price_lists.effective_until,
         egress_groups.egress_group;

comment on view price_book is
  'One row per price list and egress group, every price component as a column.';
"""

# Per price list, region and preset: the machine runtime rate is base_rate plus rate_per_256mb
# for every 256 MB above the included memory (reference/pricing.md, markup distributed over
# both terms, which keeps it exact). runtime_unit_price is a one-expression SQL function, so
# the planner inlines it.
RUNTIME_RATES = """
create view runtime_rates as
select price_book.price_list_id,
       price_book.effective_from,
       price_book.effective_until,
       regions.region_code,
       presets.preset_code,
       regions.price_markup * presets.cpus
           * case presets.cpu_kind when 'shared' then price_book.vcpu_shared
                                   else price_book.vcpu_performance end as base_rate,
       regions.price_markup * 0.25 * price_book.ram_extra as rate_per_256mb,
       presets.cpus * cpu_kinds.included_memory_mb_per_cpu as included_memory_mb
from price_book
join regions on regions.egress_group = price_book.egress_group
cross join presets
join cpu_kinds on cpu_kinds.cpu_kind = presets.cpu_kind;

comment on view runtime_rates is
  'Machine runtime price per second by price list, region and preset: '
  'runtime_unit_price(base_rate, rate_per_256mb, included_memory_mb, memory_mb).';

create function runtime_unit_price(
    base_rate numeric, rate_per_256mb numeric, included_memory_mb integer, memory_mb integer
) returns numeric language sql immutable parallel safe as $$
    select base_rate + greatest(0, (memory_mb - included_memory_mb) / 256) * rate_per_256mb
$$;
"""

# Machine meters are unpivoted with a lateral VALUES list; zero quantities are dropped.
# unit_price is per pricing unit; amount_precise = round(consumed * unit_price / conversion, 18),
# exact for machine runtime and egress (conversion 1). Region markup applies to machine runtime
# only. fleetspend/billing/rating.py aggregates the same figures month by month.
RATED_USAGE_VIEW = """
create view rated_usage as
with machine_meters as (
    select machine_usage.org_id,
           'machine'::text as resource_kind,
           machine_usage.machine_id as resource_id,
           machines.app_id,
           machine_usage.hour_at,
           meter.product,
           machine_usage.preset_code,
           machine_usage.memory_mb,
           machines.region_code,
           regions.egress_group,
           price_book.price_list_id,
           meter.consumed_quantity,
           meter.unit_price
    from machine_usage
    join machines
      on machines.org_id = machine_usage.org_id
     and machines.machine_id = machine_usage.machine_id
    join regions on regions.region_code = machines.region_code
    join price_book
      on price_book.egress_group = regions.egress_group
     and price_book.effective_from <= machine_usage.hour_at
     and (price_book.effective_until is null or machine_usage.hour_at < price_book.effective_until)
    join runtime_rates
      on runtime_rates.price_list_id = price_book.price_list_id
     and runtime_rates.region_code = machines.region_code
     and runtime_rates.preset_code = machine_usage.preset_code
    cross join lateral (values
        ('machine_runtime', machine_usage.runtime_seconds::numeric,
         runtime_unit_price(runtime_rates.base_rate, runtime_rates.rate_per_256mb,
                            runtime_rates.included_memory_mb, machine_usage.memory_mb)),
        ('stopped_rootfs', machine_usage.stopped_rootfs_gb_seconds, price_book.stopped_rootfs),
        ('dedicated_ipv4', machine_usage.dedicated_ipv4_seconds::numeric,
         price_book.dedicated_ipv4),
        ('egress_internet', machine_usage.egress_internet_gb, price_book.egress_internet),
        ('egress_private', machine_usage.egress_private_gb, price_book.egress_private)
    ) as meter (product, consumed_quantity, unit_price)
    where meter.consumed_quantity > 0
),

volume_meters as (
    select volume_usage.org_id,
           'volume'::text as resource_kind,
           volume_usage.volume_id as resource_id,
           volumes.app_id,
           volume_usage.hour_at,
           'volume'::text as product,
           null::text as preset_code,
           null::integer as memory_mb,
           volumes.region_code,
           regions.egress_group,
           price_book.price_list_id,
           volume_usage.gb_hours as consumed_quantity,
           price_book.volume as unit_price
    from volume_usage
    join volumes
      on volumes.org_id = volume_usage.org_id
     and volumes.volume_id = volume_usage.volume_id
    join regions on regions.region_code = volumes.region_code
    join price_book
      on price_book.egress_group = regions.egress_group
     and price_book.effective_from <= volume_usage.hour_at
     and (price_book.effective_until is null or volume_usage.hour_at < price_book.effective_until)
    where volume_usage.gb_hours > 0
),

meters as (
    select * from machine_meters
    union all
    select * from volume_meters
)

select meters.org_id,
       meters.resource_kind,
       meters.resource_id,
       meters.app_id,
       meters.hour_at,
       meters.product,
       meters.preset_code,
       meters.memory_mb,
       meters.region_code,
       meters.egress_group,
       meters.price_list_id,
       meters.consumed_quantity,
       products.consumed_unit,
       round(meters.consumed_quantity / products.consumed_per_pricing_unit, 18)
           as pricing_quantity,
       products.pricing_unit,
       meters.unit_price,
       round(meters.consumed_quantity * meters.unit_price / products.consumed_per_pricing_unit, 18)
           as amount_precise
from meters
join products on products.product = meters.product;

comment on view rated_usage is
  'Every hourly usage row priced with the price list in force at that hour; '
  'amount_precise is unrounded money (18 decimals). Filter hour_at for partition pruning.';
"""

# A draft is free to change. A sealed invoice (finalized, paid, void) keeps its content; only
# its credits may move, and only to the sum of its credit notes, and its status only
# finalized -> paid or finalized -> void.
INVOICE_GUARD = """
create function invoice_guard() returns trigger language plpgsql as $$
declare
    credited bigint;
begin
    if tg_op = 'DELETE' then
        if old.status <> 'draft' then
            raise exception 'invoice % is % and cannot be deleted', old.invoice_number, old.status
                using errcode = 'integrity_constraint_violation';
        end if;
        return old;
    end if;
    if old.status = 'draft' then
        if new.status not in ('draft', 'finalized') then
            raise exception 'invoice % is a draft: it can only be finalized, not %',
                old.invoice_number, new.status
                using errcode = 'integrity_constraint_violation';
        end if;
        return new;
    end if;
    if (new.org_id, new.invoice_id, new.invoice_number, new.period_start_date, new.currency,
        new.subtotal_cents, new.content_hash, new.created_at, new.finalized_at)
       is distinct from
       (old.org_id, old.invoice_id, old.invoice_number, old.period_start_date, old.currency,
        old.subtotal_cents, old.content_hash, old.created_at, old.finalized_at) then
        raise exception 'invoice % is % and its content cannot change; issue a credit note',
            old.invoice_number, old.status
            using errcode = 'integrity_constraint_violation';
    end if;
    if new.credits_cents <> old.credits_cents then
        select coalesce(sum(amount_cents), 0) into credited
        from credit_notes
        where org_id = old.org_id and invoice_id = old.invoice_id;
        if new.credits_cents <> credited then
            raise exception 'invoice %: credits % do not match its credit notes (%)',
                old.invoice_number, new.credits_cents, credited
                using errcode = 'integrity_constraint_violation';
        end if;
    end if;
    if new.status is distinct from old.status
       and not (old.status = 'finalized' and new.status in ('paid', 'void')) then
        raise exception 'invoice % cannot go from % to %',
            old.invoice_number, old.status, new.status
            using errcode = 'integrity_constraint_violation';
    end if;
    if new.paid_at is distinct from old.paid_at and not (new.status = 'paid'
       and old.status = 'finalized' and new.paid_at is not null) then
        raise exception 'invoice %: paid_at is set once, when it is paid', old.invoice_number
            using errcode = 'integrity_constraint_violation';
    end if;
    if new.voided_at is distinct from old.voided_at and not (new.status = 'void'
       and old.status = 'finalized' and new.voided_at is not null) then
        raise exception 'invoice %: voided_at is set once, when it is voided', old.invoice_number
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end
$$;

create trigger invoices_guard before update or delete on invoices
for each row execute function invoice_guard();
"""

# Lines and allocations can only be written while their invoice is a draft. Statement-level
# triggers check every touched invoice once per statement (drafting writes tens of thousands
# of allocations at a time). When the invoice row is already gone (a draft being deleted,
# cascading), there is nothing to protect.
INVOICE_CONTENT_GUARD = """
create function invoice_content_guard() returns trigger language plpgsql as $$
declare
    sealed record;
begin
    if tg_op = 'INSERT' then
        select invoices.invoice_number, invoices.status into sealed
        from invoices join (select distinct org_id, invoice_id from new_rows) as touched
          using (org_id, invoice_id)
        where invoices.status <> 'draft' limit 1;
    elsif tg_op = 'UPDATE' then
        select invoices.invoice_number, invoices.status into sealed
        from invoices join (select org_id, invoice_id from new_rows
                            union select org_id, invoice_id from old_rows) as touched
          using (org_id, invoice_id)
        where invoices.status <> 'draft' limit 1;
    else
        select invoices.invoice_number, invoices.status into sealed
        from invoices join (select distinct org_id, invoice_id from old_rows) as touched
          using (org_id, invoice_id)
        where invoices.status <> 'draft' limit 1;
    end if;
    if found then
        raise exception 'invoice % is %: its % cannot be changed',
            sealed.invoice_number, sealed.status, replace(tg_table_name, 'invoice_', '')
            using errcode = 'integrity_constraint_violation';
    end if;
    return null;
end
$$;

create trigger invoice_lines_insert_guard after insert on invoice_lines
referencing new table as new_rows
for each statement execute function invoice_content_guard();
create trigger invoice_lines_update_guard after update on invoice_lines
referencing new table as new_rows old table as old_rows
for each statement execute function invoice_content_guard();
create trigger invoice_lines_delete_guard after delete on invoice_lines
referencing old table as old_rows
for each statement execute function invoice_content_guard();

create trigger invoice_allocations_insert_guard after insert on invoice_allocations
referencing new table as new_rows
for each statement execute function invoice_content_guard();
create trigger invoice_allocations_update_guard after update on invoice_allocations
referencing new table as new_rows old table as old_rows
for each statement execute function invoice_content_guard();
create trigger invoice_allocations_delete_guard after delete on invoice_allocations
referencing old table as old_rows
for each statement execute function invoice_content_guard();
"""

# Credit notes are only issued against finalized (or paid) invoices, never change, and each one
# moves its invoice's credits and total in the same statement; the invoice's check constraint
# credits_cents <= subtotal_cents then makes over-crediting impossible.
CREDIT_NOTE_RULES = """
create function credit_note_guard() returns trigger language plpgsql as $$
declare
    invoice_status text;
begin
    if tg_op <> 'INSERT' then
        raise exception 'credit note % cannot be changed or deleted; issue another one',
            old.credit_note_number
            using errcode = 'integrity_constraint_violation';
    end if;
    select status into invoice_status
    from invoices where org_id = new.org_id and invoice_id = new.invoice_id;
    if invoice_status is distinct from 'finalized' and invoice_status is distinct from 'paid' then
        raise exception 'credit notes need a finalized or paid invoice; invoice % is %',
            new.invoice_id, coalesce(invoice_status, 'missing')
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end
$$;

create trigger credit_notes_guard before insert or update or delete on credit_notes
for each row execute function credit_note_guard();

create function credit_note_applied() returns trigger language plpgsql as $$
begin
    update invoices
    set credits_cents = credits_cents + new.amount_cents,
        total_cents = total_cents - new.amount_cents
    where org_id = new.org_id and invoice_id = new.invoice_id;
    return null;
end
$$;

create trigger credit_notes_applied after insert on credit_notes
for each row execute function credit_note_applied();
"""
