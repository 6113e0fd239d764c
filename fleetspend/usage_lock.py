"""The lock that keeps imports and billing runs apart.

Imports and billing runs each hold it for their whole transaction, so an import never commits
between the statements of a billing run (which would seal an invoice whose machine lines
predate the import and whose volume lines follow it), and an import always knows which
months are sealed when it notes late usage. Taken in READ COMMITTED, the run's statements
after it see every import committed before it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "usage_lock")
# set for the rest of the transaction once it holds the lock, so later steps can tell
LOCKED_FLAG = "fleetspend.usage_locked"


def lock_usage(connection: Connection) -> None:
    """Wait for running imports or billing runs to end; hold the lock until this transaction
    ends."""
    connection.execute(_STATEMENTS.sql("lock_usage"))
    connection.execute(_STATEMENTS.sql("note_usage_locked"), {"flag": LOCKED_FLAG})


def holds_usage_lock(connection: Connection) -> bool:
    """Whether this transaction took the lock: then no import, seed or billing run can change
    usage before it ends."""
    return connection.execute(_STATEMENTS.sql("usage_locked"),
                              {"flag": LOCKED_FLAG}).scalar() is True
