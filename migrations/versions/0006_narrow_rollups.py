"""Narrow rollups: per app and region, and per region, VM size and product, by day and month.

The meter rows of ``rollup_usage_daily`` carry app x region x VM size x product, a couple of
thousand rows per day for a 10,000-machine organization. Questions about fewer dimensions read
these narrower tables instead, four times fewer rows (fleetspend.rollups keeps them
with the meter rows, in the same transaction):

- ``rollup_app_region_daily`` and ``rollup_app_region_monthly``: per org, day (month), app and
  region: spend, and machine runtime seconds and their spend (by app, team, region or
  continent, the team trends and the overview's anomaly search);
- ``rollup_region_size_daily`` and ``rollup_region_size_monthly``: per org, day (month),
  region, VM size and product: consumed quantity and spend (by region, continent, VM size or
  product).

All four are usage-level tenant tables: row-level security forced, readable by the app's role
as the 0004 policies read ``rollup_usage_daily``. The upgrade fills them from the meter rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("rollup_app_region_daily", "rollup_app_region_monthly", "rollup_region_size_daily",
          "rollup_region_size_monthly")
APP_ROLE = "fleetspend_app"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('usage'))::bigint[])"
MONTH = "cast(date_trunc('month', usage_date) as date)"

FILL = (
    """
insert into rollup_app_region_daily (
    org_id, usage_date, app_id, region_code, runtime_seconds, runtime_amount_precise,
    amount_precise
)
select org_id, usage_date, app_id, region_code,
       sum(consumed_quantity) filter (where product = 'machine_runtime'),
       sum(amount_precise) filter (where product = 'machine_runtime'), sum(amount_precise)
from rollup_usage_daily
group by 1, 2, 3, 4
order by 1, 2
""",
    f"""
insert into rollup_app_region_monthly (
    org_id, month_date, app_id, region_code, runtime_seconds, runtime_amount_precise,
    amount_precise
)
select org_id, {MONTH}, app_id, region_code, sum(runtime_seconds), sum(runtime_amount_precise),
       sum(amount_precise)
from rollup_app_region_daily
group by 1, 2, 3, 4
order by 1, 2
""",  # noqa: S608 - a constant of this migration
    """
insert into rollup_region_size_daily (
    org_id, usage_date, region_code, preset_code, product, consumed_quantity, amount_precise
)
select org_id, usage_date, region_code, preset_code, product, sum(consumed_quantity),
       sum(amount_precise)
from rollup_usage_daily
group by 1, 2, 3, 4, 5
order by 1, 2
""",
    f"""
insert into rollup_region_size_monthly (
    org_id, month_date, region_code, preset_code, product, consumed_quantity, amount_precise
)
select org_id, {MONTH}, region_code, preset_code, product, sum(consumed_quantity),
       sum(amount_precise)
from rollup_region_size_daily
group by 1, 2, 3, 4, 5
order by 1, 2
""",  # noqa: S608 - a constant of this migration
)


def _app_columns(period: str) -> list[sa.Column]:
    return [
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("runtime_seconds", sa.Numeric(precision=30, scale=6), nullable=True),
        sa.Column("runtime_amount_precise", sa.Numeric(precision=30, scale=18), nullable=True),
        sa.Column("amount_precise", sa.Numeric(precision=30, scale=18), nullable=False),
    ]


def _region_size_columns(period: str) -> list[sa.Column]:
    return [
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("preset_code", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("consumed_quantity", sa.Numeric(precision=30, scale=6), nullable=False),
        sa.Column("amount_precise", sa.Numeric(precision=30, scale=18), nullable=False),
    ]


def _create(table: str, columns: list[sa.Column], key: list[str]) -> None:
    constraints: list[sa.Constraint] = [
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f(f"fk_{table}_org_id_organizations")),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{table}")),
    ]
    if "month_date" in key:
        constraints.append(sa.CheckConstraint("extract(day from month_date) = 1",
                                              name=op.f(f"ck_{table}_month_start")))
    op.create_table(table, *columns, *constraints)


def upgrade() -> None:
    for period in ("usage_date", "month_date"):
        grain = "daily" if period == "usage_date" else "monthly"
        _create(f"rollup_app_region_{grain}", _app_columns(period),
                ["org_id", period, "app_id", "region_code"])
        _create(f"rollup_region_size_{grain}", _region_size_columns(period),
                ["org_id", period, "region_code", "preset_code", "product"])
    for table in TABLES:
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"create policy app_reads on {table} for select to {APP_ROLE} "
                   f"using ({VISIBLE})")
        op.execute(f"grant select on {table} to {APP_ROLE}")
    for statement in FILL:
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"revoke all on {table} from {APP_ROLE}")
        op.drop_table(table)
