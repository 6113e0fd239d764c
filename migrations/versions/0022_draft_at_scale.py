"""Drafting a month at ten times the large scale: statistics to plan its sums with, and no
per-row foreign key checks on the invoice group amounts it writes.

How many machine sizes hourly usage holds: extended statistics the month's draft plans with.

Drafting a month sums its hourly machine rows per organization, machine, preset and memory
(fleetspend/billing/sql/machine_sums.sql). The planner multiplies the four columns' distinct
counts and expects about fifty times the groups there are (495,000 against 9,250 for the large
scale's biggest organization), so it sizes the aggregation's hash tables for them: measured at
the large scale (load 8, alternately), the same pass takes 5.2 s grouped with that estimate and
2.1 s with the real one. ``ndistinct`` statistics over the four columns give the planner the
real count. They are kept on the partitioned table, where the planner looks for them, and are
built by ``analyze machine_usage`` (the seed's load runs it; autovacuum analyzes partitions,
not the partitioned table), which this upgrade runs once.

``invoice_group_amounts`` and ``invoice_group_resources`` (migration 0020) are derived: every
row is summed, when a month is drafted, from the draft's own lines and allocations, whose
invoice, line and app are checked by their foreign keys when they are written; ``fleetspend
billing verify`` proves the sums equal the allocations, and the guards of 0020 stay. Their
own foreign keys to ``invoices`` and ``apps`` checked the same keys again, one query per row:
at ten times the large scale a draft writes 892,000 of these rows, and without those checks
the statement that writes them took 45 s instead of 73 s (EXPLAIN-free timing of one draft
each, load 13). They go, as the rollups' went in 0019. Nothing deletes an invoice but the
seed, which truncates these tables with the others.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


GROUP_TABLES = ("invoice_group_amounts", "invoice_group_resources")


def upgrade() -> None:
    op.execute("create statistics st_machine_usage_sizes (ndistinct) "
               "on org_id, machine_id, preset_code, memory_mb from machine_usage")
    op.execute("analyze machine_usage")
    for table in GROUP_TABLES:
        op.drop_constraint(op.f(f"fk_{table}_org_id_app_id_apps"), table, type_="foreignkey")
        op.drop_constraint(op.f(f"fk_{table}_org_id_invoice_id_invoices"), table,
                           type_="foreignkey")


def downgrade() -> None:
    for table in GROUP_TABLES:
        op.create_foreign_key(op.f(f"fk_{table}_org_id_invoice_id_invoices"), table,
                              "invoices", ["org_id", "invoice_id"], ["org_id", "invoice_id"],
                              ondelete="CASCADE")
        op.create_foreign_key(op.f(f"fk_{table}_org_id_app_id_apps"), table, "apps",
                              ["org_id", "app_id"], ["org_id", "app_id"])
    op.execute("drop statistics st_machine_usage_sizes")
