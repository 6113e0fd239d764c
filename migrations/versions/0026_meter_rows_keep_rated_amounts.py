"""Meter rows keep their rated amount beside the invoice's cents.

A month with an invoice carries the invoice's cents in the meter rows' ``amount_precise``
(fleetspend/figures.py). To spread the cents again (each draft does), the rated amount of
every meter row of the month is needed as a weight, and it was summed again from the
per-resource rows: at ten times the large scale 4.9 million rows (1.2 GB) read for 580,000
meter rows, the largest part of the 40 s the spread took in a draft (load 4). The meter
rows now keep it, ``rated_amount_precise``, written wherever they are summed from the
per-resource rows (the fold and the rebuild) and left alone by the figures; a row of the
figures' own (nothing consumed) rates 0. Filled here from the per-resource rows.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL_FROM_RESOURCE_ROWS = """
update rollup_usage_daily as meter
set rated_amount_precise = sums.amount_precise
from (
    select org_id, usage_date, app_id, region_code, preset_code, product,
           sum(amount_precise) as amount_precise
    from rollup_resource_daily
    group by 1, 2, 3, 4, 5, 6
) as sums
where meter.org_id = sums.org_id and meter.usage_date = sums.usage_date
  and meter.app_id = sums.app_id and meter.region_code = sums.region_code
  and meter.preset_code = sums.preset_code and meter.product = sums.product
"""


def upgrade() -> None:
    op.add_column("rollup_usage_daily",
                  sa.Column("rated_amount_precise", sa.Numeric(30, 18), nullable=True))
    op.execute(FILL_FROM_RESOURCE_ROWS)
    op.execute("update rollup_usage_daily set rated_amount_precise = 0 "
               "where rated_amount_precise is null")
    op.alter_column("rollup_usage_daily", "rated_amount_precise", nullable=False)


def downgrade() -> None:
    op.drop_column("rollup_usage_daily", "rated_amount_precise")
