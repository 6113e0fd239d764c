"""How fresh a page's numbers are: their age against the primary and "usage complete through".

Both are read inside the page's own snapshot, so they describe exactly the data on screen.

A replica's data is current when its WAL receiver streams from the primary and it has
replayed everything received (a quiet primary sends nothing, and that is no lag). Otherwise
its data is as old as the last transaction it replayed, measured against this server's clock
(kept in step with the primary's by NTP): replay held up, or cut off from the primary, which
a replica does not notice in its WAL positions. Past ``REPLICA_STALE_AFTER_S`` seconds
(default 60) the page warns.

Usage itself can be late too: a feed that stopped leaves "usage complete through" behind
the clock. Past ``USAGE_STALE_AFTER_H`` hours (default 36: the hourly feed, a day's slack)
the page warns that recent usage is missing. Footers speak a customer's words: live data or
a copy some seconds behind, never "primary" or "replica".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from queries import sql

STALE_AFTER_ENV = "REPLICA_STALE_AFTER_S"
DEFAULT_STALE_AFTER_S = 60.0
USAGE_STALE_AFTER_ENV = "USAGE_STALE_AFTER_H"
DEFAULT_USAGE_STALE_AFTER_H = 36.0


def _positive(name: str, default: float, what: str) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of {what}, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of {what}, got {raw!r}")
    return value


def stale_after_s() -> float:
    """The age in seconds past which a page warns that its data may be out of date."""
    return _positive(STALE_AFTER_ENV, DEFAULT_STALE_AFTER_S, "seconds")


def usage_stale_after_h() -> float:
    """The hours "usage complete through" may trail the clock before a page warns."""
    return _positive(USAGE_STALE_AFTER_ENV, DEFAULT_USAGE_STALE_AFTER_H, "hours")


@dataclass(frozen=True)
class Freshness:
    """Where a page's data stands against the primary and the usage feed."""

    is_replica: bool
    is_receiving: bool  # a WAL receiver streams from the primary (always true on the primary)
    lag_seconds: float | None  # how long ago the data was certainly current; None: unknown
    lag_bytes: int
    last_replayed_at: datetime | None
    usage_complete_through_at: datetime | None
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    checked_at: datetime | None = None  # the clock when read, for the usage's own age
    usage_stale_after_h: float = DEFAULT_USAGE_STALE_AFTER_H

    @property
    def is_lagging(self) -> bool:
        return self.lag_bytes > 0 or self.lag_seconds != 0

    @property
    def is_stale(self) -> bool:
        """Whether the data may be older than the threshold (or of an unknown age)."""
        if not self.is_lagging:
            return False
        return self.lag_seconds is None or self.lag_seconds > self.stale_after_s

    def _age(self) -> str:
        if self.lag_seconds is None:
            return "an unknown time (nothing replayed since the replica started)"
        return f"{self.lag_seconds:.0f} s"

    def describe(self) -> str:
        """One line for the page footer, e.g. 'Replica 0 s behind; usage complete through ...'."""
        through = (f"usage complete through {self.usage_complete_through_at:%Y-%m-%d %H:%M} UTC"
                   if self.usage_complete_through_at else "no usage yet")
        if not self.is_replica:
            return f"Live data; {through}"
        if not self.is_receiving:
            return (f"Copy of the data not receiving updates; it is {self._age()} old; "
                    f"{through}")
        if self.lag_seconds is None:
            return f"Copy of the data catching up ({self.lag_bytes:,} bytes behind); {through}"
        return f"Data {self.lag_seconds:.0f} s behind live; {through}"

    @property
    def usage_warning(self) -> str | None:
        """What the page must say when usage stops well before the clock, else None."""
        through, now = self.usage_complete_through_at, self.checked_at
        if through is None or now is None:
            return None
        behind = now - through
        if behind.total_seconds() <= self.usage_stale_after_h * 3600:
            return None
        days = behind.days
        age = (f"{days} days" if days > 1 else
               f"{behind.total_seconds() / 3600:.0f} hours")
        return (f"Usage is complete only through {through:%Y-%m-%d %H:%M} UTC, {age} ago: "
                "usage since then has not arrived yet, so recent spend is missing from "
                "these figures.")

    @property
    def warning(self) -> str | None:
        """What the page must say when its data may be out of date, else None."""
        if not self.is_stale:
            return None
        replayed = ("" if self.last_replayed_at is None else
                    f" (last change replayed at {self.last_replayed_at:%Y-%m-%d %H:%M:%S} UTC)")
        why = ("the replica serving this page is not receiving changes from the primary"
               if not self.is_receiving else "the replica serving this page is behind")
        return (f"These figures may be out of date: {why}, and its data is {self._age()} "
                f"old{replayed}.")


def replica_lag(connection: Connection) -> dict:
    """is_replica, is_receiving, lag_seconds, lag_bytes and last_replayed_at of the server."""
    return dict(connection.execute(sql("replica_lag")).mappings().one())


def usage_complete_through(connection: Connection, org_id: int) -> datetime | None:
    """The end of the latest hour of ``org_id``'s usage folded into the rollups."""
    return connection.execute(sql("usage_complete_through"), {"org_id": org_id}).scalar()


def read_freshness(connection: Connection, org_id: int) -> Freshness:
    """How fresh the server behind ``connection`` is and ``org_id``'s usage high mark."""
    return server_freshness(connection, usage_complete_through(connection, org_id))


def server_freshness(connection: Connection, through_at: datetime | None) -> Freshness:
    """How fresh the server behind ``connection`` is, with a usage high mark read already in
    the same snapshot (one statement fewer per view)."""
    return _freshness(replica_lag(connection), through_at)


@dataclass(frozen=True)
class OrgFreshness:
    """How fresh an organization's figures are and the days its usage spans."""

    fresh: Freshness
    first_usage_date: date | None
    last_usage_date: date | None


def read_org_freshness(connection: Connection, org_id: int) -> OrgFreshness:
    """:func:`read_freshness` with the organization's first and last days with usage, in one
    statement (org_freshness: one round trip where four ran)."""
    row = connection.execute(sql("org_freshness"), {"org_id": org_id}).mappings().one()
    return OrgFreshness(_freshness(dict(row), row["usage_complete_through_at"]),
                        row["first_usage_date"], row["last_usage_date"])


def _freshness(lag: Mapping[str, Any], through_at: datetime | None) -> Freshness:
    return Freshness(
        is_replica=lag["is_replica"],
        is_receiving=lag["is_receiving"],
        lag_seconds=None if lag["lag_seconds"] is None else float(lag["lag_seconds"]),
        lag_bytes=int(lag["lag_bytes"]),
        last_replayed_at=lag["last_replayed_at"],
        usage_complete_through_at=through_at,
        stale_after_s=stale_after_s(),
        checked_at=datetime.now(UTC),
        usage_stale_after_h=usage_stale_after_h(),
    )
