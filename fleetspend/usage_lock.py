"""The lock that keeps imports and billing runs apart.

Imports and billing runs each hold it for their whole transaction, so an import never commits
between the statements of a billing run (which would seal an invoice whose machine lines
predate the import and whose volume lines follow it), and an import always knows which
months are sealed when it notes late usage. Taken in READ COMMITTED, the run's statements
after it see every import committed before it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

USAGE_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('fleetspend usage'))"
# set for the rest of the transaction once it holds the lock, so later steps can tell
LOCKED_FLAG = "fleetspend.usage_locked"


def lock_usage(connection: Connection) -> None:
    """Wait for running imports or billing runs to end; hold the lock until this transaction
    ends."""
    connection.execute(text(USAGE_LOCK_SQL))
    connection.execute(text("select set_config(:flag, 'on', true)"), {"flag": LOCKED_FLAG})


def holds_usage_lock(connection: Connection) -> bool:
    """Whether this transaction took the lock: then no import, seed or billing run can change
    usage before it ends."""
    return connection.execute(text("select current_setting(:flag, true) = 'on'"),
                              {"flag": LOCKED_FLAG}).scalar() is True
