"""Where an organization's alerts go: email recipients and signed webhooks (admins only).

Written through migration 0016's functions, each change with its audit event; a webhook's
secret goes in and is never read back by the app (its role has no privilege on the column).
The delivery log is every attempt of :mod:`.delivery`, newest first.
"""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Connection, Engine

from fleetspend import auth
from fleetspend.alerts.budgets import BudgetError, admin_call
from fleetspend.reads.readmodels import read_frame

EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
MIN_SECRET = 16


def parse_recipients(value: str) -> list[str]:
    """Email addresses as typed, separated by commas or lines; each checked."""
    emails = [part.strip().lower() for part in re.split(r"[,\n]", value) if part.strip()]
    for email in emails:
        if not EMAIL.match(email):
            raise BudgetError(f"{email!r} is not an email address")
    return sorted(set(emails))


def set_recipients(engine: Engine, caller: auth.Caller, org_id: int, emails: list[str]) -> None:
    """Replace the organization's alert email recipients (audited)."""
    admin_call(engine, caller, "set_alert_recipients", {"org_id": org_id, "emails": emails})


def add_webhook(engine: Engine, caller: auth.Caller, org_id: int, name: str, url: str,
                secret: str) -> int:
    """Add a webhook signed with ``secret`` (at least 16 characters); audited without it."""
    if len(secret) < MIN_SECRET:
        raise BudgetError(f"a webhook secret has at least {MIN_SECRET} characters")
    return int(admin_call(
        engine, caller, "add_alert_webhook",
        {"org_id": org_id, "name": name.strip(), "url": url.strip(), "secret": secret}))


def set_webhook_enabled(engine: Engine, caller: auth.Caller, org_id: int, webhook_id: int,
                        enabled: bool) -> None:
    """Turn a webhook on or off (audited); alerts fired while off are not sent to it."""
    admin_call(engine, caller, "set_alert_webhook_enabled",
               {"org_id": org_id, "webhook_id": webhook_id, "enabled": enabled})


def read_settings(connection: Connection, org_id: int) -> pd.DataFrame:
    """The organization's recipients and webhooks (no secrets)."""
    return read_frame(connection, "org_alert_delivery_settings", {"org_id": org_id})


def read_delivery_log(connection: Connection, org_id: int) -> pd.DataFrame:
    """The latest delivery attempts, newest first."""
    return read_frame(connection, "alert_delivery_log", {"org_id": org_id})
