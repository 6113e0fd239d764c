"""What the organization admins' own pages read: the teams and members of the organization in
view, and its support access log (readers for :mod:`fleetspend.ui.database`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from queries import sql

ACCESS_LOG_COLUMNS = ["grant_id", "engineer_name", "engineer_email", "support_ticket", "reason",
                      "granted_at", "expires_at", "revoked_at", "pages_viewed", "last_viewed_at"]


def _frame(connection: Connection, query: str, org_id: int, columns: list[str]) -> pd.DataFrame:
    rows = connection.execute(sql(query), {"org_id": org_id}).mappings().all()
    return pd.DataFrame(rows, columns=columns)


def teams_and_members(connection: Connection, org_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The organization's teams (apps, machines not destroyed) and its members."""
    return (_frame(connection, "org_teams", org_id,
                   ["team_id", "name", "apps", "running_machines"]),
            _frame(connection, "org_members", org_id,
                   ["user_id", "name", "email", "role", "joined_at"]))


def support_access_log(connection: Connection, org_id: int) -> pd.DataFrame:
    """Every support grant opened on the organization, with the pages viewed under it."""
    return _frame(connection, "support_access_log", org_id, ACCESS_LOG_COLUMNS)
