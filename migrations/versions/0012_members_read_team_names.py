"""Team names at the usage level: members see their organization's teams by name.

Migration 0004 put ``teams`` with the billing tables, which only admins (and support under a
grant) read, so the spend pages showed a member ``Team 6`` where an admin saw ``Mobile``. A
team's name says nothing about money; apps, which name their team, are read at the usage
level already. Memberships (who is in the organization) stay at the billing level.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"


def _read_policy(access: str) -> None:
    op.execute("drop policy app_reads on teams")
    op.execute(
        f"create policy app_reads on teams for select to {APP_ROLE} using ("
        f"org_id = any ((select fleetspend_auth.visible_org_ids('{access}'))::bigint[]))")


def upgrade() -> None:
    _read_policy("usage")


def downgrade() -> None:
    _read_policy("billing")
