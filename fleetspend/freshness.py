"""How fresh a page's numbers are: replica lag and "usage complete through <time UTC>".

Both are read inside the page's own snapshot, so they describe exactly the data on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from queries import sql


@dataclass(frozen=True)
class Freshness:
    """Where a page's data stands against the primary and the usage feed."""

    is_replica: bool
    lag_seconds: float | None  # None: behind, by an unknown time (nothing replayed yet)
    lag_bytes: int
    last_replayed_at: datetime | None
    usage_complete_through_at: datetime | None

    @property
    def is_lagging(self) -> bool:
        return self.lag_bytes > 0 or self.lag_seconds != 0

    def describe(self) -> str:
        """One line for the page footer, e.g. 'Replica 0 s behind; usage complete through ...'."""
        through = (f"usage complete through {self.usage_complete_through_at:%Y-%m-%d %H:%M} UTC"
                   if self.usage_complete_through_at else "no usage yet")
        if not self.is_replica:
            return f"Read from the primary; {through}"
        if self.lag_seconds is None:
            return f"Replica behind the primary by {self.lag_bytes:,} bytes of WAL; {through}"
        return f"Replica {self.lag_seconds:.0f} s behind the primary; {through}"


def replica_lag(connection: Connection) -> dict:
    """is_replica, lag_seconds, lag_bytes and last_replayed_at of the server behind it."""
    return dict(connection.execute(sql("replica_lag")).mappings().one())


def usage_complete_through(connection: Connection, org_id: int) -> datetime | None:
    """The end of the latest hour of ``org_id``'s usage folded into the rollups."""
    return connection.execute(sql("usage_complete_through"), {"org_id": org_id}).scalar()


def read_freshness(connection: Connection, org_id: int) -> Freshness:
    """The replica lag of the server behind ``connection`` and ``org_id``'s usage high mark."""
    lag = replica_lag(connection)
    return Freshness(
        is_replica=lag["is_replica"],
        lag_seconds=None if lag["lag_seconds"] is None else float(lag["lag_seconds"]),
        lag_bytes=int(lag["lag_bytes"]),
        last_replayed_at=lag["last_replayed_at"],
        usage_complete_through_at=usage_complete_through(connection, org_id),
    )
