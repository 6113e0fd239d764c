"""The overview's anomaly findings, searched when a day is folded instead of on every view.

The anomaly search (fleetspend.anomaly_search.find_anomalies) read 81 days of spend per app, region and
day on every overview view and alerts run: 0.5 s of reading and 0.4 s of pandas per view at
ten times the large scale. ``rollup_anomaly_findings`` keeps one row per organization: the
findings of the last search and the "usage complete through" instant it searched as of.
fleetspend.rollups empties an organization's row whenever its anomaly series change and
searches again when the fold (or the rebuild, or a draft's figures) is done; a page that
finds no row for its instant searches itself, as before. A usage-level tenant table:
row-level security forced, readable by the app's role as the other rollups are. The upgrade
leaves it empty: the next fold of each organization (or ``fleetspend rollup --full``) fills it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
TABLE = "rollup_anomaly_findings"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('usage'))::bigint[])"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("through_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("findings", postgresql.JSONB(), nullable=False),
        sa.Column("searched_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f(f"fk_{TABLE}_org_id_organizations")),
        sa.PrimaryKeyConstraint("org_id", name=op.f(f"pk_{TABLE}")),
    )
    op.execute(f"alter table {TABLE} enable row level security")
    op.execute(f"alter table {TABLE} force row level security")
    op.execute(f"create policy app_reads on {TABLE} for select to {APP_ROLE} using ({VISIBLE})")
    op.execute(f"grant select on {TABLE} to {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"revoke all on {TABLE} from {APP_ROLE}")
    op.drop_table(TABLE)
