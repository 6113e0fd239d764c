"""How many machine sizes hourly usage holds: extended statistics the month's draft plans with.

Drafting a month sums its hourly machine rows per organization, machine, preset and memory
(fleetspend/billing/sql/machine_sums.sql). The planner multiplies the four columns' distinct
counts and expects about fifty times the groups there are (495,000 against 9,250 for the large
scale's biggest organization), so it sizes the aggregation's hash tables for them: measured at
the large scale (load 8, alternately), the same pass takes 5.2 s grouped with that estimate and
2.1 s with the real one. ``ndistinct`` statistics over the four columns give the planner the
real count. They are kept on the partitioned table, where the planner looks for them, and are
built by ``analyze machine_usage`` (the seed's load runs it; autovacuum analyzes partitions,
not the partitioned table), which this upgrade runs once.

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-05 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("create statistics st_machine_usage_sizes (ndistinct) "
               "on org_id, machine_id, preset_code, memory_mb from machine_usage")
    op.execute("analyze machine_usage")


def downgrade() -> None:
    op.execute("drop statistics st_machine_usage_sizes")
