"""Each person's alert inbox: what fired in their organization, read, acknowledged, muted.

An alert is unread for a person until they open it or acknowledge it (a row of
``alert_receipts``, theirs only). A mute hides one kind of alert of one budget (or
anomalies) from that person's inbox and unread count; it silences nothing for others and
no email or webhook. The app's role writes these rows itself, on the primary, and the
database lets it write only the caller's own (migration 0016). :func:`read_cause` finds the
apps and machines behind an alert from the rollups, for the page that explains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine

from fleetspend import auth, db
from fleetspend.alerts import statements
from fleetspend.reads.readmodels import read_frame
from queries import sql

CAUSE_MACHINES = 20


def read_inbox(connection: Connection, org_id: int, user_id: int | None) -> pd.DataFrame:
    """The person's latest alerts with their state (all unread for someone without an inbox,
    a support engineer)."""
    return read_frame(connection, "alert_inbox", {"org_id": org_id, "user_id": user_id})


def unread_count(connection: Connection, org_id: int, user_id: int) -> int:
    """How many of the organization's alerts the person has neither read nor muted."""
    return int(connection.execute(sql("alert_unread_count"),
                                  {"org_id": org_id, "user_id": user_id}).scalar_one())


def _write(engine: Engine, caller: auth.Caller, statement: str, params: dict) -> None:
    if caller.is_staff:
        raise auth.AccessRefusedError("support engineers have no alert inbox")
    with engine.begin() as connection:
        db.set_local(connection, auth.scope_for(caller).settings())
        connection.execute(statements.sql(statement), {**params, "user_id": caller.actor_id})


def mark_read(engine: Engine, caller: auth.Caller, org_id: int,
              alert_ids: Iterable[int]) -> None:
    """Mark alerts read for ``caller`` (already read ones stay as they were)."""
    _write(engine, caller, "mark_alerts_read", {"org_id": org_id, "alert_ids": list(alert_ids)})


def acknowledge(engine: Engine, caller: auth.Caller, org_id: int, alert_id: int) -> None:
    """Acknowledge an alert for ``caller``: read, and dealt with."""
    _write(engine, caller, "acknowledge_alert", {"org_id": org_id, "alert_id": alert_id})


def set_muted(engine: Engine, caller: auth.Caller, org_id: int, kind: str,
              budget_id: int | None, muted: bool) -> None:
    """Mute (or unmute) one kind of alert of one budget (anomalies: no budget) for ``caller``."""
    _write(engine, caller, "mute_alerts" if muted else "unmute_alerts",
           {"org_id": org_id, "kind": kind, "budget_id": budget_id})


@dataclass(frozen=True)
class Cause:
    """The apps and machines behind an alert over its period."""

    start_date: date
    end_date: date  # inclusive
    apps: pd.DataFrame
    machines: pd.DataFrame


def read_cause(connection: Connection, org_id: int, link_params: dict[str, str]) -> Cause:
    """The apps of the alert's scope (its view's team or app filter) and their dearest
    machines over the view's period, from the rollups."""
    start, end = (date.fromisoformat(link_params[name]) for name in ("from", "to"))
    params = {"org_id": org_id, "start_date": start, "end_date": end + timedelta(days=1),
              "team_ids": [int(link_params["team"])] if "team" in link_params else None,
              "app_ids": [int(link_params["app"])] if "app" in link_params else None}
    return Cause(start, end, read_frame(connection, "alert_cause_apps", params),
                 read_frame(connection, "alert_cause_machines",
                            {**params, "row_limit": CAUSE_MACHINES}))
