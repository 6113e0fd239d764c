"""Typed page queries: named SQL from queries/ in, pandas DataFrames with exact money out.

Every function takes the page's connection (from :func:`fleetspend.db.read_snapshot`), checks
its arguments, runs one named query with bound parameters and builds the frame from the rows
itself, so NUMERIC stays ``Decimal`` (``amount_precise``) beside integer ``amount_cents``;
nothing passes through float. Group-by dimensions come from the registry
(fleetspend.reads.dimensions) and time grains from its allow-list; an unknown one is a
``ValueError`` naming the allowed values.

All of these read the rollups (fleetspend.rollups), never raw usage.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection

from fleetspend.partitions import next_month
from fleetspend.reads.dimensions import DIMENSIONS, GRAINS, NO_DIMENSION, daily_source
from queries import sql


def read_frame(connection: Connection, query: str, params: dict,
               columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of a named query as a DataFrame (NUMERIC stays ``Decimal``).

    Rows become plain tuples first: pandas probes each SQLAlchemy ``Row`` for attributes,
    and every miss raises and catches an exception, which costs more than the query for a
    few thousand rows.
    """
    result = connection.execute(sql(query), params)
    return pd.DataFrame.from_records([tuple(row) for row in result],
                                     columns=columns or list(result.keys()))


def _check_range(start_date: date, end_date: date) -> None:
    if not (isinstance(start_date, date) and isinstance(end_date, date)):
        raise TypeError("start_date and end_date must be dates")
    if end_date <= start_date:
        raise ValueError(f"empty date range: {start_date} to {end_date} (end is exclusive)")


def _check_dimension(name: str, value: str, *, optional: bool = False) -> None:
    allowed = [*DIMENSIONS, *([NO_DIMENSION] if optional else [])]
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_limit(row_limit: int | None) -> None:
    if row_limit is not None and (isinstance(row_limit, bool) or row_limit < 1):
        raise ValueError(f"row_limit must be a positive number or None; got {row_limit!r}")


def whole_months(start_date: date, end_date: date,
                 last_usage_date: date | None = None) -> tuple[date, date]:
    """The calendar months [from, until) whose monthly rollup rows lie wholly inside the range.

    These are the months inside [start_date, end_date) and, when ``last_usage_date`` (the
    organization's latest day with usage) comes before end_date, also the month the range
    ends in, if the range covers its start: that month's rows then hold only days inside the
    range (``until`` is then past end_date). Both are ``end_date`` when there are none.
    """
    _check_range(start_date, end_date)
    first = start_date if start_date.day == 1 else next_month(start_date.replace(day=1))
    until = end_date.replace(day=1)
    if (last_usage_date is not None and last_usage_date < end_date and end_date.day != 1
            and first <= until):
        until = next_month(until)
    if first >= until:
        return end_date, end_date
    return first, until


def last_usage_date(connection: Connection, org_id: int) -> date | None:
    """The organization's latest UTC day with usage in the rollups, or None."""
    return connection.execute(sql("org_last_usage_date"), {"org_id": org_id}).scalar_one()


def spend_by_period(connection: Connection, org_id: int, start_date: date, end_date: date,
                    grain: str = "day") -> pd.DataFrame:
    """Spend per day, week or month: period_start_date, amount_precise, amount_cents, ..."""
    _check_range(start_date, end_date)
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}; got {grain!r}")
    return read_frame(connection, "spend_by_period", {
        "org_id": org_id, "start_date": start_date, "end_date": end_date, "grain": grain})


def spend_by_dimensions(connection: Connection, org_id: int, start_date: date, end_date: date,
                        dimension_1: str, dimension_2: str = NO_DIMENSION,
                        row_limit: int | None = None, *,
                        latest_usage_day: date | None = None) -> pd.DataFrame:
    """Spend by one or two dimensions, biggest first; ``row_limit`` gives a top-N.

    Columns: dimension_1_key, dimension_1_label, dimension_2_key, dimension_2_label,
    amount_precise, amount_cents. ``latest_usage_day``: the organization's latest day with
    usage, when the caller has read it in this snapshot (None: looked up here).
    """
    _check_dimension("dimension_1", dimension_1)
    _check_dimension("dimension_2", dimension_2, optional=True)
    if dimension_2 == dimension_1:
        raise ValueError(f"grouping by {dimension_1!r} twice; pick two different dimensions")
    _check_limit(row_limit)
    whole_from, whole_until = whole_months(
        start_date, end_date, latest_usage_day or last_usage_date(connection, org_id))
    return read_frame(connection, "spend_by_dimensions", {
        "org_id": org_id, "start_date": start_date, "end_date": end_date,
        "whole_from": whole_from, "whole_until": whole_until,
        "daily_source": daily_source({dimension_1, dimension_2}),
        "dimension_1": dimension_1, "dimension_2": dimension_2, "row_limit": row_limit})


def spend_month_to_date(connection: Connection, org_id: int, as_of_date: date) -> pd.DataFrame:
    """This month through ``as_of_date`` beside the same stretch of last month (one row)."""
    return read_frame(connection, "spend_month_to_date",
                      {"org_id": org_id, "as_of_date": as_of_date})
