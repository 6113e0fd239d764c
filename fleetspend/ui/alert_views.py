"""What the Alerts, alert and alert-settings pages read, and the inbox's filters (kept in the
URL): readers cached by the visit's scope (:mod:`fleetspend.ui.database`), forgotten after a
write so the page shows it at once."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from fleetspend.alerts import inbox, settings
from fleetspend.ui import budget_views, database, url_state

INBOX_KEY = "alerts_"
ALL = "all"


@database.loader(ttl=30, max_entries=128)
def inbox_of(connection: Connection, org_id: int, user_id: int) -> pd.DataFrame:
    """The person's latest alerts with their state."""
    return inbox.read_inbox(connection, org_id, user_id)


@database.loader(ttl=30, max_entries=128)
def alert_and_cause(connection: Connection, org_id: int, user_id: int | None,
                    alert_id: int) -> tuple[dict, inbox.Cause] | None:
    """The alert and what is behind it (None if this organization has no such alert)."""
    alerts = inbox.read_inbox(connection, org_id, user_id)
    found = alerts[alerts.alert_id == alert_id]
    if found.empty:
        return None
    alert = found.iloc[0].to_dict()
    return alert, inbox.read_cause(connection, org_id, alert["link_params"])


@database.loader(ttl=30, max_entries=64)
def delivery(connection: Connection, org_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The organization's recipients and webhooks, and its delivery log."""
    return (settings.read_settings(connection, org_id),
            settings.read_delivery_log(connection, org_id))


def then_rerun(action: Callable[[], object], forget: Callable[[], None]) -> None:
    """Run a write on the primary, forget the reads it changes, and start the page over (the
    sidebar's unread count is read afresh with every view)."""
    action()
    forget()
    st.rerun()


def shown(alerts: pd.DataFrame, state: str, kind: str, budget: str, muted: bool) -> pd.DataFrame:
    """The alerts the filters keep."""
    keep = pd.Series(True, index=alerts.index)
    if state == "unread":
        keep &= ~alerts.is_read
    elif state == "open":
        keep &= ~alerts.is_acknowledged
    if kind != ALL:
        keep &= alerts.kind == kind
    if budget != ALL:
        keep &= alerts.budget_id == int(budget)
    if not muted:
        keep &= ~alerts.is_muted
    return alerts[keep]


def filter_changed(name: str) -> None:
    """An inbox filter changed: the URL says so."""
    st.query_params[name] = url_state.encode(st.session_state[INBOX_KEY + name])


def save_delivery(action: Callable[[], object], done: str) -> None:
    """Run a change of the delivery settings; say what went wrong, or start over saying
    ``done`` with the settings read afresh."""
    budget_views.write_then_rerun(action, done, delivery.clear)
