"""Monthly partitions of the hourly usage tables, created on demand before data lands."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from psycopg import sql
from sqlalchemy import Connection

from fleetspend import bulk
from fleetspend.models import PARTITIONED_TABLES
from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "partitions")
_CREATE_PARTITION = sql.SQL("create table {} partition of {} for values from ({}) to ({})")

# a month's first day (date) or first instant (datetime): next_month returns the same kind
Month = TypeVar("Month", bound=date)


def next_month(month: Month) -> Month:
    """The first day (or instant) of the month after the one starting at ``month``."""
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def month_starts(start: datetime, end: datetime) -> list[datetime]:
    """The first instant (UTC) of every calendar month that [start, end) touches."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("partition bounds must be timezone-aware UTC datetimes")
    month = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    while month < end:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_{month:%Y_%m}"


def _partition_names(connection: Connection) -> set[str]:
    return set(connection.execute(_STATEMENTS.sql("partition_names"),
                                  {"tables": list(PARTITIONED_TABLES)}).scalars())


def month_partitions(connection: Connection) -> list[datetime]:
    """The first instant (UTC) of every month that some usage table has a partition for."""
    months = set()
    for name in _partition_names(connection):
        table, year, month = name.rsplit("_", 2)
        if table in PARTITIONED_TABLES and year.isdigit() and month.isdigit():
            months.add(datetime(int(year), int(month), 1, tzinfo=UTC))
    return sorted(months)


def ensure_month_partitions(connection: Connection, start: datetime, end: datetime) -> list[str]:
    """Create the missing monthly partitions of every usage table for [start, end).

    Returns the names of the partitions created. The DDL takes no bound parameters: names
    (from our own table list and dates) and bounds are quoted by psycopg.
    """
    existing = _partition_names(connection)
    created = []
    for month in month_starts(start, end):
        following = next_month(month)
        for table in PARTITIONED_TABLES:
            name = partition_name(table, month)
            if name in existing:
                continue
            bulk.run_composed(connection, _CREATE_PARTITION.format(
                sql.Identifier(name), sql.Identifier(table),
                sql.Literal(month.isoformat()), sql.Literal(following.isoformat())))
            created.append(name)
    return created
