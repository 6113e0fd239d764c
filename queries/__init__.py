"""The read path's SQL: one named query per .sql file in this folder, with :named parameters.

A query's name is its file name without .sql; the first comment lines say what it returns.
The rules and the loader are the write side's too (fleetspend/sqlfiles.py): loading fails
loudly on a missing name, on two files that would give the same name, on a file without its
header comment and on any placeholder style other than ``:name``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

from fleetspend.sqlfiles import SqlNotFoundError, read_folder

QUERY_DIR = Path(__file__).resolve().parent


@cache
def catalog() -> dict[str, str]:
    """Every query's name mapped to its SQL text."""
    return read_folder(QUERY_DIR)


@cache
def sql(name: str) -> TextClause:
    """The named query as a SQLAlchemy text clause, ready for bound parameters (made once per
    name: building one parses the text for its bind parameters)."""
    try:
        return text(catalog()[name])
    except KeyError:
        raise SqlNotFoundError(f"no query named {name!r} in {QUERY_DIR}") from None
