"""The billing passes' temporary tables, dropped and analyzed by name.

A pass names the tables it stages (``rated_lines``, ``machine_sums``, ...); the statement that
drops or analyzes one is composed with its name quoted by psycopg, and only for a name that a
statement of sql/ creates (``create temp table <name>``), so nothing else can reach it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from psycopg import sql
from sqlalchemy import Connection

from fleetspend import bulk
from fleetspend.billing import statements

_CREATES = re.compile(r"create\s+temp(?:orary)?\s+table\s+(\w+)", re.IGNORECASE)


@cache
def names() -> frozenset[str]:
    """Every temporary table a billing statement creates."""
    return frozenset(match.group(1) for body in statements.catalog().values()
                     for match in _CREATES.finditer(body))


def _each(connection: Connection, template: str, tables: Iterable[str]) -> None:
    for table in tables:
        if table not in names():
            raise ValueError(f"no billing statement creates a temporary table {table!r}")
        bulk.run_composed(connection, sql.SQL(template).format(sql.Identifier("pg_temp", table)))


def drop(connection: Connection, *tables: str) -> None:
    """Drop ``tables`` if they exist (staging again in one transaction replaces them)."""
    _each(connection, "drop table if exists {}", tables)


def analyze(connection: Connection, *tables: str) -> None:
    """Analyze ``tables``: statistics for the statements that read what was just staged."""
    _each(connection, "analyze {}", tables)
