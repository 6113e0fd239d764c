"""The read path's SQL: one named query per .sql file in this folder, with :named parameters.

A query's name is its file name without .sql; the first comment lines say what it returns.
Loading fails loudly on a missing name, on two files that would give the same name, on a file
without its header comment and on any placeholder style other than ``:name`` (``%s``,
``%(name)s``, ``$1``, ``{name}``), so nothing can be formatted into SQL by accident.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

QUERY_DIR = Path(__file__).resolve().parent

# placeholders of other paramstyles, or Python formatting, that must never reach a query
_FOREIGN_PLACEHOLDER = re.compile(r"%s|%\(\w+\)s|\$\d+|\{\w*\}")


class QueryNotFoundError(KeyError):
    """No .sql file in queries/ has this name."""


class QueryFileError(ValueError):
    """A .sql file in queries/ breaks the rules above."""


def _check(path: Path, body: str) -> None:
    if not body.lstrip().startswith("--"):
        raise QueryFileError(f"{path}:1: a query starts with a comment saying what it returns")
    for number, line in enumerate(body.splitlines(), start=1):
        code = line.split("--", 1)[0]
        match = _FOREIGN_PLACEHOLDER.search(code)
        if match:
            raise QueryFileError(
                f"{path}:{number}: placeholder {match.group()!r}; use :named bind parameters"
            )


@cache
def catalog() -> dict[str, str]:
    """Every query's name mapped to its SQL text."""
    queries: dict[str, str] = {}
    for path in sorted(QUERY_DIR.rglob("*.sql")):
        name = path.stem
        if name in queries:
            raise QueryFileError(f"two queries are named {name!r}: rename one of them ({path})")
        body = path.read_text(encoding="utf-8")
        _check(path, body)
        queries[name] = body
    return queries


@cache
def sql(name: str) -> TextClause:
    """The named query as a SQLAlchemy text clause, ready for bound parameters (made once per
    name: building one parses the text for its bind parameters)."""
    try:
        return text(catalog()[name])
    except KeyError:
        raise QueryNotFoundError(f"no query named {name!r} in {QUERY_DIR}") from None
