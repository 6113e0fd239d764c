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


def lock_usage(connection: Connection) -> None:
    """Wait for running imports or billing runs to end; hold the lock until this transaction
    ends."""
    connection.execute(text(USAGE_LOCK_SQL))
