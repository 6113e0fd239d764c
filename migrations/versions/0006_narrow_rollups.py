"""Narrow rollups, by day and by month, each the meter rows summed over fewer dimensions.

The meter rows of ``rollup_usage_daily`` carry app x region x VM size x product, a couple of
thousand rows per day for a 10,000-machine organization. Questions about fewer dimensions read
these narrower tables instead, two and a half to four times fewer rows (fleetspend.rollups
keeps them with the meter rows, in the same transaction; fleetspend.models.NARROW_ROLLUPS
names them):

- ``rollup_app_region_daily`` / ``_monthly``: per app and region, spend and machine runtime
  seconds with their spend (by app, team, region or continent; the overview's anomaly search);
- ``rollup_app_region_size_daily`` / ``_monthly``: the same per app, region and VM size (the
  team comparison's region and VM-size mix);
- ``rollup_region_size_daily`` / ``_monthly``: per region, VM size and product, consumed
  quantity and spend (by region, continent, VM size or product).

All are usage-level tenant tables: row-level security forced, readable by the app's role as
the 0004 policies read ``rollup_usage_daily``. The upgrade fills them from the meter rows.

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

APP_ROLE = "fleetspend_app"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('usage'))::bigint[])"

APP_MEASURES = ("runtime_seconds", "runtime_amount_precise", "amount_precise")
NARROW = {
    "app_region": (("app_id", "region_code"), APP_MEASURES),
    "app_region_size": (("app_id", "region_code", "preset_code"), APP_MEASURES),
    "region_size": (("region_code", "preset_code", "product"),
                    ("consumed_quantity", "amount_precise")),
}
QUANTITY = sa.Numeric(precision=30, scale=6)
PRECISE = sa.Numeric(precision=30, scale=18)
COLUMN_TYPES = {
    "app_id": (sa.BigInteger(), False), "region_code": (sa.Text(), False),
    "preset_code": (sa.Text(), False), "product": (sa.Text(), False),
    "runtime_seconds": (QUANTITY, True), "runtime_amount_precise": (PRECISE, True),
    "consumed_quantity": (QUANTITY, False), "amount_precise": (PRECISE, False),
}
FROM_METERS = {
    "runtime_seconds": "sum(consumed_quantity) filter (where product = 'machine_runtime')",
    "runtime_amount_precise": "sum(amount_precise) filter (where product = 'machine_runtime')",
    "consumed_quantity": "sum(consumed_quantity)",
    "amount_precise": "sum(amount_precise)",
}


def _tables() -> list[tuple[str, str, str]]:
    """(table, period column, narrow name) for every narrow table, daily before monthly."""
    return [(f"rollup_{name}_{grain}", period, name) for name in NARROW
            for grain, period in (("daily", "usage_date"), ("monthly", "month_date"))]


def _create(table: str, period: str, name: str) -> None:
    keys, measures = NARROW[name]
    columns = [sa.Column("org_id", sa.BigInteger(), nullable=False),
               sa.Column(period, sa.Date(), nullable=False)]
    columns += [sa.Column(column, COLUMN_TYPES[column][0], nullable=COLUMN_TYPES[column][1])
                for column in (*keys, *measures)]
    constraints: list[sa.Constraint] = [
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f(f"fk_{table}_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", period, *keys, name=op.f(f"pk_{table}")),
    ]
    if period == "month_date":
        constraints.append(sa.CheckConstraint("extract(day from month_date) = 1",
                                              name=op.f(f"ck_{table}_month_start")))
    op.create_table(table, *columns, *constraints)


def _fill(table: str, period: str, name: str) -> str:
    keys, measures = NARROW[name]
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    if period == "usage_date":
        source, sums = "rollup_usage_daily", [FROM_METERS[m] for m in measures]
        day = "usage_date"
    else:
        source, sums = f"rollup_{name}_daily", [f"sum({m})" for m in measures]
        day = "cast(date_trunc('month', usage_date) as date)"
    # composed from this migration's constants only
    return (f"insert into {table} (org_id, {period}, {', '.join((*keys, *measures))}) "  # noqa: S608
            f"select org_id, {day}, {', '.join(keys)}, {', '.join(sums)} from {source} "
            f"group by {groups} order by 1, 2")


def upgrade() -> None:
    for table, period, name in _tables():
        _create(table, period, name)
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"create policy app_reads on {table} for select to {APP_ROLE} "
                   f"using ({VISIBLE})")
        op.execute(f"grant select on {table} to {APP_ROLE}")
        op.execute(_fill(table, period, name))


def downgrade() -> None:
    for table, _, _ in reversed(_tables()):
        op.execute(f"revoke all on {table} from {APP_ROLE}")
        op.drop_table(table)
