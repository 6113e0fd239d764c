"""Invoice line groups in one place, and each group's amounts written when drafting.

The drill-down names a group of an invoice's lines by ``group_by`` (the whole invoice, a
product, a region, a VM size or one line) and ``group_key``. The rule that gives a line its
key was copied into five queries and the page code; it is now one SQL function,
``invoice_line_group_key(group_by, line)``: '' for the whole invoice, the product, the region or
the VM size ('-' for lines without one), the line's number as text.

The drill-down's apps and machines levels summed every allocation of the invoice (42,000 for
northwind's month at the large scale: 20-70 ms a view) on each view. Two SQL functions of one
invoice sum its allocations per group of lines of every grouping: per machine or volume
(``invoice_group_resource_sums``) and per app (``invoice_group_sums``). Two tables hold what
they give, written with the allocations when a month is drafted (fleetspend.billing.invoices)
and guarded like them (once the invoice is finalized nothing may change them):
``invoice_group_resources`` and ``invoice_group_amounts``. ``fleetspend billing verify``
proves they still equal the allocations. Billing-level tenant tables, readable by the app's
role as invoice lines are; the functions run with the caller's rights. The upgrade fills the
tables for every invoice there is, before the guards are in place.

An invoice's header columns (number, month, status, currency, subtotal, credits, total,
finalized at, whether it is an estimate) were listed in three queries; ``invoice_headers``
is now the one list they read (a view with the caller's rights).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('billing'))::bigint[])"
GROUPINGS = "'invoice', 'product', 'region', 'vm_size', 'line'"

# one expression, so the planner inlines it into the statements that filter lines with it
GROUP_KEY = """
create function invoice_line_group_key(group_by text, line invoice_lines) returns text
language sql immutable parallel safe as $$
    select case group_by
        when 'invoice' then ''
        when 'product' then line.product
        when 'region' then coalesce(line.region_code, '-')
        when 'vm_size' then coalesce(line.preset_code, '-')
        when 'line' then cast(line.line_no as text)
    end
$$
"""

# what one invoice's lines allocated to each resource, per group of every grouping; and the
# same per app. SQL functions of one invoice (not views), so that a statement over many
# invoices reads each one's rows through the indexes (a lateral call per invoice); they run
# with the caller's rights, row-level security applied.
GROUP_SUMS = f"""
create function invoice_group_resource_sums(org_id bigint, invoice_id bigint)
returns table (group_by text, group_key text, resource_kind text, resource_id text,
               app_id bigint, lines integer, amount_cents bigint)
language sql stable parallel safe as $$
    select
        groupings.group_by,
        invoice_line_group_key(groupings.group_by, lines),
        allocations.resource_kind,
        allocations.resource_id,
        allocations.app_id,
        cast(count(*) as integer),
        cast(sum(allocations.amount_cents) as bigint)
    from invoice_lines as lines
    inner join invoice_allocations as allocations
        on allocations.org_id = lines.org_id
        and allocations.invoice_id = lines.invoice_id
        and allocations.line_no = lines.line_no
    cross join unnest(array[{GROUPINGS}]) as groupings (group_by)
    where lines.org_id = $1
      and lines.invoice_id = $2
    group by 1, 2, 3, 4, 5
$$;

create function invoice_group_sums(org_id bigint, invoice_id bigint)
returns table (group_by text, group_key text, app_id bigint, machines integer,
               volumes integer, amount_cents bigint)
language sql stable parallel safe as $$
    select
        group_by,
        group_key,
        app_id,
        cast(count(*) filter (where resource_kind = 'machine') as integer),
        cast(count(*) filter (where resource_kind = 'volume') as integer),
        cast(sum(amount_cents) as bigint)
    from invoice_group_resource_sums($1, $2)
    group by 1, 2, 3
$$
"""  # noqa: S608 - module constants only

# an invoice's header as every page shows it, written once (the caller's rights applied)
INVOICE_HEADERS = """
create view invoice_headers with (security_invoker = true) as
select org_id, invoice_id, invoice_number, period_start_date, status, currency,
       subtotal_cents, credits_cents, total_cents, finalized_at, status = 'draft' as is_estimated
from invoices
"""

TABLES = ("invoice_group_amounts", "invoice_group_resources")
# in primary key order: one group's rows then lie together, a few pages to read, not one
# page a row
BACKFILL = """
insert into {table}
select invoices.org_id, invoices.invoice_id, sums.*
from invoices
cross join lateral {function}(invoices.org_id, invoices.invoice_id) as sums
order by 1, 2, 3, 4, 5
"""


def _columns(**types: type[sa.types.TypeEngine]) -> list[sa.Column]:
    keys = {"org_id": sa.BigInteger, "invoice_id": sa.BigInteger, "group_by": sa.Text,
            "group_key": sa.Text}
    return [sa.Column(name, kind(), nullable=False) for name, kind in {**keys, **types}.items()]


def _tenant_keys(table: str, key: tuple[str, ...]) -> list[sa.Constraint]:
    return [
        sa.CheckConstraint(f"group_by in ({GROUPINGS})", name=op.f(f"ck_{table}_grouping_known")),
        sa.ForeignKeyConstraint(["org_id", "invoice_id"],
                                ["invoices.org_id", "invoices.invoice_id"],
                                name=op.f(f"fk_{table}_org_id_invoice_id_invoices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id", "app_id"], ["apps.org_id", "apps.app_id"],
                                name=op.f(f"fk_{table}_org_id_app_id_apps")),
        sa.PrimaryKeyConstraint("org_id", "invoice_id", "group_by", "group_key", *key,
                                name=op.f(f"pk_{table}")),
    ]


def _guard(table: str) -> None:
    """Written only while their invoice is a draft, as its allocations (migration 0002), and
    never truncated while they hold rows (but by the seed replacing its own data, 0009)."""
    for event, transitions in (("insert", "new table as new_rows"),
                               ("update", "new table as new_rows old table as old_rows"),
                               ("delete", "old table as old_rows")):
        op.execute(f"create trigger {table}_{event}_guard after {event} on {table} "
                   f"referencing {transitions} "
                   "for each statement execute function invoice_content_guard()")
    op.execute(f"create trigger {table}_truncate_guard before truncate on {table} "
               "for each statement execute function truncate_guard()")


def upgrade() -> None:
    op.execute(GROUP_KEY)
    op.execute(GROUP_SUMS)
    op.execute(INVOICE_HEADERS)
    op.execute(f"grant select on invoice_headers to {APP_ROLE}")
    op.create_table(
        "invoice_group_amounts",
        *_columns(app_id=sa.BigInteger, machines=sa.Integer, volumes=sa.Integer,
                  amount_cents=sa.BigInteger),
        *_tenant_keys("invoice_group_amounts", ("app_id",)),
    )
    op.create_table(
        "invoice_group_resources",
        *_columns(resource_kind=sa.Text, resource_id=sa.Text, app_id=sa.BigInteger,
                  lines=sa.Integer, amount_cents=sa.BigInteger),
        *_tenant_keys("invoice_group_resources", ("resource_id",)),
    )
    for table, function in zip(TABLES, ("invoice_group_sums", "invoice_group_resource_sums"),
                               strict=True):
        op.execute(BACKFILL.format(table=table, function=function))
        _guard(table)
        op.execute(f"grant select on {table} to {APP_ROLE}")
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"create policy app_reads on {table} for select to {APP_ROLE} "
                   f"using ({VISIBLE})")


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    op.execute("drop view invoice_headers")
    op.execute("drop function invoice_group_sums(bigint, bigint)")
    op.execute("drop function invoice_group_resource_sums(bigint, bigint)")
    op.execute("drop function invoice_line_group_key(text, invoice_lines)")
