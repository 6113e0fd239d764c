"""`fleetspend ingest FILE`: import accounts, machines, lifecycle events and metered usage.

The file (CSV or JSON Lines, see docs/import-format.md) is imported in one transaction:

1. every line is parsed and its fields checked on their own (:mod:`.records`);
2. account records (organizations, teams, apps, users, memberships, support engineers) are
   checked against what is stored and each other, and written if nothing at all was wrong
   (:mod:`.accounts`), so the usage records after them can name what they declared;
3. names are resolved and records checked against the database and each other
   (:mod:`.checks`);
4. if nothing was wrong, rows are COPYed into staging tables and upserted set-based, machine
   runs are rebuilt for machines whose events changed, and event sequences are checked
   (:mod:`.writing`); staged usage is checked against the lifecycle before it is written
   (:mod:`.plausibility`).

Any problem at any step, including a constraint the database enforces, rejects the whole file:
:class:`IngestError` lists every problem with its file, line and field, and nothing is
written. Importing the same file again changes nothing. Imports run one at a time (an
advisory lock held for the transaction), so the checks always see what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fleetspend import rollups
from fleetspend.ingest.accounts import AccountsResult, import_accounts
from fleetspend.ingest.checks import check_records
from fleetspend.ingest.records import ACCOUNT_KINDS, Problem, read_records
from fleetspend.ingest.writing import (
    EVENTS,
    MACHINE_USAGE,
    MACHINES,
    VOLUME_USAGE,
    VOLUMES,
    LateUsage,
    Outcome,
    write_batch,
)
from fleetspend.usage_lock import lock_usage

__all__ = ["IngestError", "IngestResult", "ingest_file"]

SHOWN_PROBLEMS = 50
_TARGETS = (MACHINES, EVENTS, MACHINE_USAGE, VOLUMES, VOLUME_USAGE)


class IngestError(Exception):
    """A file was rejected; nothing of it was written. str() lists the problems."""

    def __init__(self, file_name: str, problems: list[Problem]) -> None:
        self.file_name = file_name
        self.problems = sorted(problems, key=lambda problem: problem.line or 0)
        super().__init__(self._describe())

    def _describe(self) -> str:
        count = len(self.problems)
        lines = [f"{self.file_name} was rejected, nothing was imported "
                 f"({count} problem{'s' if count != 1 else ''}):"]
        lines += [problem.render(self.file_name) for problem in self.problems[:SHOWN_PROBLEMS]]
        if count > SHOWN_PROBLEMS:
            lines.append(f"... and {count - SHOWN_PROBLEMS} more")
        return "\n".join(lines)


@dataclass
class IngestResult:
    """What an import did: counts per record type, and what later work must refresh."""

    file_name: str
    accounts: AccountsResult = field(default_factory=AccountsResult)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # org_id -> [first hour, end hour) of the usage rows inserted or corrected, for rollups
    touched_hours: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    # the (org_id, machine_id) whose runs were rebuilt because their events changed
    rebuilt_machines: list[tuple[int, str]] = field(default_factory=list)
    # hours changed in months whose invoice is sealed, carried by a later invoice
    late_usage: list[LateUsage] = field(default_factory=list)

    def describe(self) -> str:
        if not self.outcomes and not self.accounts.outcomes:
            return f"{self.file_name}: no records, nothing to import"
        lines = [f"imported {self.file_name}:", *self.accounts.describe_lines()]
        for target in _TARGETS:
            outcome = self.outcomes.get(target.label)
            if outcome is None:
                continue
            parts = [f"{outcome.inserted} inserted"]
            if target.is_overwritten:
                parts.append(f"{outcome.changed} {target.changed_word}")
            parts.append(f"{outcome.unchanged} unchanged")
            lines.append(f"  {target.label}: {', '.join(parts)}")
        if self.rebuilt_machines:
            count = len(self.rebuilt_machines)
            lines.append(f"  machine runs rebuilt for {count} machine{'s' if count != 1 else ''}")
        if self.late_usage:
            lines.append("  usage for months already invoiced (those invoices stay as they are):")
            lines += [f"    {late.describe()}" for late in self.late_usage]
        return "\n".join(lines)


def _database_problem(error: DBAPIError | psycopg.Error, step: str) -> Problem:
    """A problem for an error the database raised (a constraint, a trigger, a lost server)."""
    original = error.orig if isinstance(error, DBAPIError) else error
    diagnostic = getattr(original, "diag", None)
    message = (diagnostic.message_primary if diagnostic and diagnostic.message_primary
               else str(original).strip())
    if diagnostic and diagnostic.constraint_name:
        message += f" (constraint {diagnostic.constraint_name})"
    if diagnostic and diagnostic.message_detail:
        message += f"; {diagnostic.message_detail}"
    return Problem(f"the database rejected the file while {step}: {message}")


def ingest_file(engine: Engine, path: Path, now: datetime | None = None, *,
                within: Callable[[Connection], None] | None = None) -> IngestResult:
    """Import ``path`` (.csv or .jsonl) in one transaction, or raise IngestError.

    ``now`` (default: the clock) is the instant whose hour is the last that usage may have.
    ``within``, if given, is called with the import's connection as the transaction's last
    step, after the rows and the rollups are written: what it writes commits or rolls back
    with the file (the feed records the file's content hash there, see fleetspend.feed).
    An exception it raises rolls the import back and propagates (a database error as
    IngestError).
    """
    path = Path(path)
    problems: list[Problem] = []
    if not path.is_file():
        raise IngestError(path.name, [Problem(f"is not a file ({path})")])
    records = read_records(path, problems)
    account_records = [record for record in records if record.kind in ACCOUNT_KINDS]
    usage_records = [record for record in records if record.kind not in ACCOUNT_KINDS]
    result = IngestResult(path.name)
    step = "starting"
    try:
        with engine.begin() as connection:
            # imports run one at a time, and never during a billing run: each checks what is
            # stored, then writes on that basis
            lock_usage(connection)
            step = "checking its accounts"
            result.accounts = import_accounts(connection, account_records, problems)
            if problems and account_records:
                # usage is checked against the accounts once those are right
                raise IngestError(path.name, problems)
            step = "checking it"
            batch = check_records(connection, usage_records, problems)
            if problems:
                raise IngestError(path.name, problems)
            step = "writing it"
            written = write_batch(connection, batch, problems, now)
            if problems:
                raise IngestError(path.name, problems)
            step = "folding it into the rollups"
            rollups.refresh_in(connection)
            if within is not None:
                step = "recording it"
                within(connection)
    except (DBAPIError, psycopg.Error) as error:
        raise IngestError(path.name, [*problems, _database_problem(error, step)]) from error
    result.outcomes = {target.label: outcome for target, outcome in written.outcomes.items()}
    result.touched_hours = written.touched_hours
    result.rebuilt_machines = written.rebuilt_machines
    result.late_usage = written.late_usage
    return result
