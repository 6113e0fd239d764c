"""CSV files as the app writes them: UTF-8, no index, rows ended by CRLF as RFC 4180 has it
(so a cell holding a carriage return is quoted), and no cell a spreadsheet would run.

Spreadsheets read a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection), and names in our tables are the customer's to choose. As OWASP
recommends, such a text cell is written with a single quote in front, which spreadsheets
show as text. Only text cells change: numbers (a negative Decimal amount too), dates and
empty cells are written as they are, apart from moments in time: those are written in UTC as
ISO 8601 with a ``Z`` (``2026-10-03T14:00:00Z``), so the cell itself says it is UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that would start a formula, quoted; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def as_cell(value: object) -> object:
    """A cell's value as written: a moment in time in UTC with a ``Z``, a text cell that would
    start a formula quoted, anything else unchanged."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).strftime(MOMENT_FORMAT)
    return neutralise(value)


def to_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV with its text cells neutralised and its moments in UTC with a
    ``Z``; Decimals keep every digit."""
    safe = frame.copy()
    for position, dtype in enumerate(frame.dtypes):
        column = frame.iloc[:, position]
        if isinstance(dtype, pd.DatetimeTZDtype):
            safe.isetitem(position, column.dt.tz_convert(UTC).dt.strftime(MOMENT_FORMAT))
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            safe.isetitem(position, column.map(as_cell))
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
