"""Two page reads from an index: the invoice machine list, dearest first, a page at a time;
an organization's running machines counted per app.

The drill-down's machine list (``queries/invoice_group_machines.sql``) opens sorted by amount,
dearest first, 50 a page. With only the primary key (by resource id) it read all of the group's
resources and sorted them on every view: 9,925 for northwind's whole October invoice at the
large scale, 10-13 ms of EXPLAIN ANALYZE and 14-31 ms replayed (page 1 and page 100). Read in
this index's order it stops at the page's last row (page 1: 50 rows). The list's totals come
from ``invoice_group_amounts`` when nothing is searched.

The index costs the draft one more btree to fill (about 100,000 rows per large-scale invoice).

The team pages and the members page list each team with its running machines
(``queries/org_teams.sql``), counted from every machine of the organization: a sequential scan
of ``machines`` (11,700 rows at large, ten times that at xlarge), 3.3 ms a view at large. A
partial index of the machines not destroyed, by organization and app, answers the count from
the index alone (1.4 ms in the same run).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_AMOUNT = "ix_invoice_group_resources_by_amount"
RUNNING = "ix_machines_running_per_app"


def upgrade() -> None:
    op.execute(f"create index {BY_AMOUNT} on invoice_group_resources "
               "(org_id, invoice_id, group_by, group_key, amount_cents desc nulls last, "
               "resource_id)")
    op.execute(f"create index {RUNNING} on machines (org_id, app_id) "
               "where destroyed_at is null")


def downgrade() -> None:
    op.execute(f"drop index {RUNNING}")
    op.execute(f"drop index {BY_AMOUNT}")
