"""SQL kept in files: one named statement per .sql file, with :named bind parameters.

The read path's queries (queries/) and the write side's statements (a ``sql/`` folder beside
the modules that run them, e.g. fleetspend/billing/sql/) load the same way. A statement's name
is its file name without .sql; its first comment lines say what it does or returns. Loading
fails loudly on a missing name, on two files that would give the same name, on a file without
its header comment and on any placeholder style other than ``:name`` (``%s``, ``%(name)s``,
``$1``, ``{name}``), so nothing can be formatted into SQL by accident.

A statement that shares its first common table expressions with another is made of several
files read in order (``folder.sql("scoped_machines", "delete_runs")``): the shared ``with``
part, then the part that continues it. Whole files are joined, never values or names.
Comments name parameters without their colon: SQLAlchemy reads ``:name`` in a comment as a
parameter too.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

# placeholders of other paramstyles, or Python formatting, that must never reach a statement
_FOREIGN_PLACEHOLDER = re.compile(r"%s|%\(\w+\)s|\$\d+|\{\w*\}")
# a string literal on one line (format('CN-%s', ...) is SQL's own formatting, not a placeholder)
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


class SqlNotFoundError(KeyError):
    """No .sql file in the folder has this name."""


class SqlFileError(ValueError):
    """A .sql file breaks the rules above."""


def _check(path: Path, body: str) -> None:
    if not body.lstrip().startswith("--"):
        raise SqlFileError(f"{path}:1: a statement starts with a comment saying what it does")
    for number, line in enumerate(body.splitlines(), start=1):
        code = _STRING_LITERAL.sub("''", line).split("--", 1)[0]
        match = _FOREIGN_PLACEHOLDER.search(code)
        if match:
            raise SqlFileError(
                f"{path}:{number}: placeholder {match.group()!r}; use :named bind parameters"
            )


def read_folder(folder: Path) -> dict[str, str]:
    """Every statement of ``folder`` (and its subfolders): its name mapped to its SQL text."""
    statements: dict[str, str] = {}
    for path in sorted(folder.rglob("*.sql")):
        name = path.stem
        if name in statements:
            raise SqlFileError(f"two statements are named {name!r}: rename one of them ({path})")
        body = path.read_text(encoding="utf-8")
        _check(path, body)
        statements[name] = body
    return statements


class SqlFolder:
    """The statements of one folder, read once; ``sql(name, ...)`` gives a text clause."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cache  # noqa: B019 - one instance per folder, alive for the whole process
    def catalog(self) -> dict[str, str]:
        """Every statement's name mapped to its SQL text."""
        return read_folder(self.folder)

    @cache  # noqa: B019 - as above; building a clause parses its text for bind parameters
    def sql(self, *names: str) -> TextClause:
        """The statement made of the named files, in order, ready for bound parameters."""
        try:
            return text("\n".join(self.catalog()[name] for name in names))
        except KeyError as missing:
            raise SqlNotFoundError(
                f"no statement named {missing.args[0]!r} in {self.folder}") from None
