"""The read path's SQL: one named query per .sql file in this folder, with :named parameters.

A query's name is its file name without .sql; the first comment lines say what it returns.
Loading fails loudly on a missing name, and on two files that would give the same name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

QUERY_DIR = Path(__file__).resolve().parent


class QueryNotFoundError(KeyError):
    """No .sql file in queries/ has this name."""


@cache
def catalog() -> dict[str, str]:
    """Every query's name mapped to its SQL text."""
    queries: dict[str, str] = {}
    for path in sorted(QUERY_DIR.rglob("*.sql")):
        name = path.stem
        if name in queries:
            raise ValueError(f"two queries are named {name!r}: rename one of them ({path})")
        queries[name] = path.read_text(encoding="utf-8")
    return queries


def sql(name: str) -> TextClause:
    """The named query as a SQLAlchemy text clause, ready for bound parameters."""
    try:
        return text(catalog()[name])
    except KeyError:
        raise QueryNotFoundError(f"no query named {name!r} in {QUERY_DIR}") from None
