"""Each app and region's spend per day, a row per calendar month, for the anomaly search.

The overview looks for anomalies in 81 days of spend per app, region and day: 42,000 rows of
``rollup_app_region_daily`` for a 10,000-machine organization, aggregated into arrays on every
view (about 40 ms, ten times that with ten times the apps). ``rollup_app_region_series`` keeps
those arrays per (org, month, app, region), recomputed with the narrow monthly rollups when a
day is folded (fleetspend.rollups), so a view reads a few thousand rows. A usage-level tenant
table: row-level security forced, readable by the app's role as the other rollups are. The
upgrade fills it from the daily rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
TABLE = "rollup_app_region_series"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('usage'))::bigint[])"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("month_date", sa.Date(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("days", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("day_cents", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.CheckConstraint("extract(day from month_date) = 1",
                           name=op.f(f"ck_{TABLE}_month_start")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f(f"fk_{TABLE}_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", "month_date", "app_id", "region_code",
                                name=op.f(f"pk_{TABLE}")),
    )
    op.execute(f"alter table {TABLE} enable row level security")
    op.execute(f"alter table {TABLE} force row level security")
    op.execute(f"create policy app_reads on {TABLE} for select to {APP_ROLE} using ({VISIBLE})")
    op.execute(f"grant select on {TABLE} to {APP_ROLE}")
    op.execute(f"""
        insert into {TABLE} (org_id, month_date, app_id, region_code, days, day_cents)
        select org_id, cast(date_trunc('month', usage_date) as date), app_id, region_code,
               array_agg(cast(extract(day from usage_date) as smallint) order by usage_date),
               array_agg(cast(round(amount_precise * 100) as bigint) order by usage_date)
        from rollup_app_region_daily
        group by 1, 2, 3, 4
        order by 1, 2
    """)  # noqa: S608 - this migration's constants only


def downgrade() -> None:
    op.execute(f"revoke all on {TABLE} from {APP_ROLE}")
    op.drop_table(TABLE)
