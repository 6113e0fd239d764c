"""Per-team rollups: spend and machine runtime per team (and region), by day and by month.

Team questions (the team comparison, spend per team over time, the explorer by team, region
or continent) read the app x region (x VM size) rollups and group them by each app's team: a
row per app, region (and size) and day, ten times more with ten times the apps. These hold
them summed per team, a few hundred rows a day however many apps:
``rollup_team_region_size_daily`` and ``_monthly`` (the team comparison's mixes),
``rollup_team_region_daily`` and ``_monthly`` (the explorer by team, region or continent) and
``rollup_team_daily`` and ``_monthly`` (spend per team over time).

An app's spend belongs to its team of today, for all time: when an app moves to another team
(``update apps set team_id``), a trigger sums the rows of the teams it left and joined again
from the app x region rows, in the same statement. fleetspend.rollups keeps them with the narrow
rollups (and so with each invoiced month's figures). Usage-level tenant tables, like 0006's.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
VISIBLE = "org_id = any ((select fleetspend_auth.visible_org_ids('usage'))::bigint[])"
MEASURES = "runtime_seconds, runtime_amount_precise, amount_precise"
SUMS = "sum(runtime_seconds), sum(runtime_amount_precise), sum(amount_precise)"
# table -> (period column, key columns after the team, the rows it is summed from), in the
# order they are filled
TABLES = {
    "rollup_team_region_size_daily": ("usage_date", ("region_code", "preset_code"),
                                      "rollup_app_region_size_daily"),
    "rollup_team_region_size_monthly": ("month_date", ("region_code", "preset_code"),
                                        "rollup_app_region_size_monthly"),
    "rollup_team_region_daily": ("usage_date", ("region_code",), "rollup_app_region_daily"),
    "rollup_team_region_monthly": ("month_date", ("region_code",), "rollup_app_region_monthly"),
    "rollup_team_daily": ("usage_date", (), "rollup_team_region_daily"),
    "rollup_team_monthly": ("month_date", (), "rollup_team_region_monthly"),
}
FUNCTION = "fleetspend_move_team_rollups"

# the teams apps left and joined in one update statement
MOVED = """(select old_apps.org_id, old_apps.team_id from old_apps
            inner join new_apps on new_apps.org_id = old_apps.org_id
            and new_apps.app_id = old_apps.app_id
            where new_apps.team_id <> old_apps.team_id
            union
            select new_apps.org_id, new_apps.team_id from old_apps
            inner join new_apps on new_apps.org_id = old_apps.org_id
            and new_apps.app_id = old_apps.app_id
            where new_apps.team_id <> old_apps.team_id)"""


def _sum_per_team(table: str, moved_only: bool) -> str:
    """Insert ``table``'s rows summed from its source: the per-app rows per app's team of
    today, or the team x region rows per team (only the moved teams' rows with
    ``moved_only``)."""
    period, keys, source = TABLES[table]
    by_app = source.startswith("rollup_app_")
    team = "apps.team_id" if by_app else "source.team_id"
    join = ("inner join apps on apps.org_id = source.org_id and apps.app_id = source.app_id"
            if by_app else "")
    where = f"({team.split('.')[0]}.org_id, {team}) in {MOVED}" if moved_only else "true"
    columns = ", ".join(("team_id", *keys))
    chosen = ", ".join((team, *(f"source.{key}" for key in keys)))
    groups = ", ".join(str(n) for n in range(1, len(keys) + 4))
    return (f"insert into {table} (org_id, {period}, {columns}, {MEASURES}) "  # noqa: S608
            f"select source.org_id, source.{period}, {chosen}, {SUMS} from {source} as source "
            f"{join} where {where} group by {groups} order by 1, 2")


def upgrade() -> None:
    for table, (period, keys, _source) in TABLES.items():
        op.create_table(
            table,
            sa.Column("org_id", sa.BigInteger(), nullable=False),
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("team_id", sa.BigInteger(), nullable=False),
            *(sa.Column(key, sa.Text(), nullable=False) for key in keys),
            sa.Column("runtime_seconds", sa.Numeric(precision=30, scale=6), nullable=True),
            sa.Column("runtime_amount_precise", sa.Numeric(precision=30, scale=18),
                      nullable=True),
            sa.Column("amount_precise", sa.Numeric(precision=30, scale=18), nullable=False),
            sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                    name=op.f(f"fk_{table}_org_id_organizations")),
            sa.PrimaryKeyConstraint("org_id", period, "team_id", *keys,
                                    name=op.f(f"pk_{table}")),
            *([sa.CheckConstraint("extract(day from month_date) = 1",
                                  name=op.f(f"ck_{table}_month_start"))]
              if period == "month_date" else []),
        )
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"create policy app_reads on {table} for select to {APP_ROLE} "
                   f"using ({VISIBLE})")
        op.execute(f"grant select on {table} to {APP_ROLE}")
        op.execute(_sum_per_team(table, moved_only=False))
    statements = []
    for table in TABLES:
        statements.append(f"delete from {table} as team_rows using {MOVED} as moved "  # noqa: S608
                          f"where team_rows.org_id = moved.org_id "
                          f"and team_rows.team_id = moved.team_id;")
        statements.append(_sum_per_team(table, moved_only=True) + ";")
    body = "\n    ".join(statements)
    op.execute(f"""
create function {FUNCTION}() returns trigger language plpgsql as $$
begin
    {body}
    return null;
end
$$""")
    op.execute(f"create trigger apps_move_team_rollups after update on apps "
               f"referencing old table as old_apps new table as new_apps "
               f"for each statement execute function {FUNCTION}()")


def downgrade() -> None:
    op.execute("drop trigger apps_move_team_rollups on apps")
    op.execute(f"drop function {FUNCTION}()")
    for table in reversed(TABLES):
        op.execute(f"revoke all on {table} from {APP_ROLE}")
        op.drop_table(table)
