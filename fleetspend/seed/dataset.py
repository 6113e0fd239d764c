"""What `fleetspend seed` loaded, so it never replaces data it did not create.

The seed records the organizations it created and the invoices it sealed in
``seeded_dataset``. The seed refuses to replace a database holding any other organization or
sealed invoice (unless told it is a throw-away database); demo mode, which lets anyone pick a
person to be, refuses to run on a database holding any other organization.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")


class SeedRefusedError(Exception):
    """The database holds data the seed did not create; replacing it would destroy it."""


def foreign_data(connection: Connection) -> tuple[int, int]:
    """How many organizations and sealed invoices no seed run created."""
    organizations, sealed = connection.execute(_STATEMENTS.sql("foreign_data")).one()
    return organizations, sealed


def record(connection: Connection, *, scale: str, seed: int) -> None:
    """Remember everything in the database now as the seed's own (at the end of a seed)."""
    connection.execute(_STATEMENTS.sql("record_seeded_dataset"), {"scale": scale, "seed": seed})


def holds_real_data(connection: Connection) -> bool:
    """Whether the database holds an organization the seed did not create: real customers,
    whom demo mode (anyone picks a person to be) must never show. An empty database, or the
    seed's organizations with invoices billed since, is demo data."""
    organizations, _ = foreign_data(connection)
    return organizations > 0
