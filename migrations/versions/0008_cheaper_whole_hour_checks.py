"""Whole-hour checks on the hourly usage tables without a time zone lookup per row.

``hour_at = date_trunc('hour', hour_at, 'UTC')`` looks the zone up for every row it checks; on
the large seed that was the dearest part of copying usage in (measured: 2.1 s against 0.45 s to
validate 3 million rows). ``date_bin`` to whole hours from a UTC midnight is plain arithmetic
and holds for exactly the same instants.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 04:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("machine_usage", "volume_usage")
BY_ZONE = "hour_at = date_trunc('hour', hour_at, 'UTC')"
BY_BIN = "hour_at = date_bin('1 hour', hour_at, timestamptz '2000-01-01 00:00+00')"


def _replace(condition: str) -> None:
    for table in TABLES:
        name = f"ck_{table}_whole_hour"
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, condition)


def upgrade() -> None:
    _replace(BY_BIN)


def downgrade() -> None:
    _replace(BY_ZONE)
