"""The read path's SQL: one named query per .sql file in this folder, with :named parameters.

A query's name is its file name without .sql; the first comment lines say what it returns.
The rules and the loader are the write side's too (fleetspend/sqlfiles.py): loading fails
loudly on a missing name, on two files that would give the same name, on a file without its
header comment and on any placeholder style other than ``:name``.

Two kinds of shared SQL are put in place when the catalog is read, so that a query's file
still holds the whole of it when printed or named: ``include(name)``, the subquery of a part
in parts/ (a file whose header says what it holds, never run alone), and the dimensions'
SQL (``dimension_key(:param)`` and the rest, see :func:`fleetspend.reads.dimensions.expand`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

from fleetspend.reads import dimensions
from fleetspend.sqlfiles import SqlNotFoundError, read_folder

QUERY_DIR = Path(__file__).resolve().parent
PARTS_DIR = QUERY_DIR / "parts"
_INCLUDE = re.compile(r"\binclude\((\w+)\)")


@cache
def catalog() -> dict[str, str]:
    """Every query's name mapped to its SQL text, parts and dimensions put in place."""
    parts = read_folder(PARTS_DIR)
    return {name: dimensions.expand(_INCLUDE.sub(
        lambda match: f"(\n{parts[match.group(1)]}\n)", body))
        for name, body in read_folder(QUERY_DIR).items() if name not in parts}


@cache
def sql(name: str) -> TextClause:
    """The named query as a SQLAlchemy text clause, ready for bound parameters (made once per
    name: building one parses the text for its bind parameters)."""
    try:
        return text(catalog()[name])
    except KeyError:
        raise SqlNotFoundError(f"no query named {name!r} in {QUERY_DIR}") from None
