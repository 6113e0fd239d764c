"""An index of each invoice's allocations in resource order, covering their cents.

The drill-down's machine level sums an invoice's allocations per machine or volume (about
42,000 rows for a 10,000-machine month) before it sorts and pages them. With this index the sum
is an index-only scan already in group order: no heap reads and no hash of 10,000 groups.
Finalized allocations never change, so their pages stay all-visible once vacuumed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 01:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_invoice_allocations_resources",
        "invoice_allocations",
        ["org_id", "invoice_id", "resource_kind", "resource_id", "app_id"],
        postgresql_include=["amount_cents", "line_no"],
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_allocations_resources", table_name="invoice_allocations")
