"""The feed: import the files dropped in a folder (usage, accounts or both), each exactly once
by its content.

``fleetspend ingest FOLDER [--watch]`` takes the folder's ``.csv`` and ``.jsonl`` files in name
order. For each file:

1. its SHA-256 is computed, and the file is claimed with a session advisory lock on that hash
   (``pg_try_advisory_lock``); a file another watcher holds is left to it. The lock is the
   server's, so it goes with the claimant's connection when its process dies.
2. content already in ``ingested_files`` was imported before (under this name or another): the
   file is moved to ``done/`` as a duplicate and nothing is written, since even an idempotent
   re-import of an old file would undo a correction that came after it;
3. otherwise it is imported with :func:`fleetspend.ingest.ingest_file`, whose transaction also
   writes the hash to ``ingested_files`` (the ``within`` hook) and folds the rows into the
   rollups. The file's rows, its rollups and its record commit together or not at all, so a
   crash mid-file leaves the file in the folder, unrecorded, to be imported on the next start;
   and the hash's primary key would refuse a second import even if two claims ever overlapped.
4. it is moved to ``done/``, or to ``failed/`` with ``NAME.errors.txt`` beside it (the problems
   with line and field) and the feed goes on with the next file. A database that cannot be
   reached is not the file's fault: the file stays in the folder and is tried again.

Every file gives one log line: time (UTC), file, outcome, counts and seconds taken.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from fleetspend.ingest import IngestError, ingest_file
from fleetspend.sqlfiles import SqlFolder

SUFFIXES = (".csv", ".jsonl")
DONE = "done"
FAILED = "failed"
REPORT_SUFFIX = ".errors.txt"
# the first key of the two-key advisory locks that claim files; the second is from the hash
CLAIM_LOCK_CLASS = 0x66656564  # "feed"

# the statements (sql/feed/): claiming a file, and recording its content as imported
_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "feed")

Log = Callable[[str], None]


class AlreadyImported(Exception):
    """The file's content was recorded by another import; this one is rolled back."""


@dataclass(frozen=True)
class FileOutcome:
    """What the feed did with one file: imported, duplicate, failed or retry."""

    file_name: str
    outcome: str
    detail: str
    seconds: float
    at: datetime

    def log_line(self) -> str:
        return (f"{self.at:%Y-%m-%dT%H:%M:%SZ} {self.file_name} {self.outcome} "
                f"in {self.seconds:.2f} s: {self.detail}")


def utc_stamp() -> str:
    """Now, as the feed's log lines write it (UTC, saying so with Z)."""
    return f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"


def pending_files(inbox: Path) -> list[Path]:
    """The importable files waiting in ``inbox``, in name order (hidden files are skipped:
    a producer writes under a hidden or other-suffix name, then renames into place)."""
    return sorted((path for path in inbox.iterdir()
                   if path.suffix in SUFFIXES and not path.name.startswith(".")
                   and path.is_file()), key=lambda path: path.name)


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _free_name(folder: Path, name: str) -> str:
    """``name``, or ``stem.N.suffix`` when ``folder`` already keeps a file of that name."""
    candidate, number = name, 0
    stem, suffix = os.path.splitext(name)
    while (folder / candidate).exists():
        number += 1
        candidate = f"{stem}.{number}{suffix}"
    return candidate


def _move(path: Path, folder: Path) -> Path:
    target = folder / _free_name(folder, path.name)
    path.rename(target)
    return target


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _counts(description: str) -> str:
    """IngestResult.describe()'s lines after the first, joined into one."""
    lines = [line.strip() for line in description.splitlines()[1:]]
    return "; ".join(lines) if lines else "no records"


def _is_database_unavailable(error: IngestError) -> bool:
    """The import failed for the database's sake (unreachable, shut down, cancelled), not the
    file's: the file should be tried again, not set aside."""
    return isinstance(error.__cause__, OperationalError | psycopg.OperationalError)


def _recorder(sha256: str, file_name: str) -> Callable[[Connection], None]:
    def record(connection: Connection) -> None:
        inserted = connection.execute(_STATEMENTS.sql("record_import"),
                                      {"sha256": sha256, "file_name": file_name})
        if inserted.rowcount == 0:
            raise AlreadyImported(sha256)
    return record


def _import_claimed(engine: Engine, claim: Connection, path: Path, sha256: str,
                    inbox: Path) -> tuple[str, str]:
    """Import one claimed file and move it; returns (outcome, detail)."""
    seen = claim.execute(_STATEMENTS.sql("imported_content"), {"sha256": sha256}).first()
    if seen is None:
        try:
            result = ingest_file(engine, path, within=_recorder(sha256, path.name))
        except AlreadyImported:
            seen = claim.execute(_STATEMENTS.sql("imported_content"), {"sha256": sha256}).one()
        except IngestError as error:
            if _is_database_unavailable(error):
                cause = getattr(error.__cause__, "orig", error.__cause__)
                return "retry", (f"the database is unavailable ({_one_line(str(cause))}); "
                                 "left in the folder, tried again on the next pass")
            failed = inbox / FAILED
            name = _free_name(failed, path.name)
            report = failed / f"{name}{REPORT_SUFFIX}"
            report.write_text(f"{error}\n")
            path.rename(failed / name)
            count = len(error.problems)
            return "failed", (f"{count} problem{'s' if count != 1 else ''}, moved to "
                              f"{FAILED}/{name} with {report.name} beside it; "
                              "going on with the next file")
        else:
            moved = _move(path, inbox / DONE)
            return "imported", f"{_counts(result.describe())}; moved to {DONE}/{moved.name}"
    moved = _move(path, inbox / DONE)
    return "duplicate", (f"same content as {seen.file_name}, imported "
                         f"{seen.imported_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}; nothing "
                         f"changed, moved to {DONE}/{moved.name}")


def feed_file(engine: Engine, inbox: Path, path: Path) -> FileOutcome | None:
    """Import one file of ``inbox`` exactly once; None when another watcher has it (or has
    just moved it away)."""
    started = time.monotonic()
    try:
        sha256 = _sha256(path)
    except FileNotFoundError:  # another watcher moved it since the folder was listed
        return None
    key = {"lock_class": CLAIM_LOCK_CLASS,
           "file_key": int.from_bytes(bytes.fromhex(sha256[:8]), "big", signed=True)}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as claim:
        if not claim.execute(_STATEMENTS.sql("claim_file"), key).scalar_one():
            return None
        try:
            # still the file that was hashed: not moved away, nor replaced, meanwhile
            if not path.is_file() or _sha256(path) != sha256:
                return None
            outcome, detail = _import_claimed(engine, claim, path, sha256, inbox)
        finally:
            claim.execute(_STATEMENTS.sql("release_file"), key)
    return FileOutcome(path.name, outcome, detail, time.monotonic() - started, datetime.now(UTC))


def prepare(inbox: Path) -> None:
    """Create the ``done/`` and ``failed/`` folders beside the files."""
    for folder in (DONE, FAILED):
        (inbox / folder).mkdir(exist_ok=True)


def feed_folder(engine: Engine, inbox: Path, log: Log,
                stop: threading.Event | None = None,
                after_import: Callable[[], None] | None = None) -> list[FileOutcome]:
    """Import the files waiting in ``inbox``, in name order, logging a line each, and call
    ``after_import`` after each file imported (``--alerts``: an alerts run follows).

    The pass ends early at a file another watcher holds (the files after it wait their turn,
    so name order holds across watchers), at a file left for the database's sake, and
    between files when ``stop`` is set.
    """
    prepare(inbox)
    outcomes = []
    for path in pending_files(inbox):
        if stop is not None and stop.is_set():
            break
        outcome = feed_file(engine, inbox, path)
        if outcome is None:
            break
        log(outcome.log_line())
        outcomes.append(outcome)
        if after_import is not None and outcome.outcome == "imported":
            after_import()
        if outcome.outcome == "retry":
            break
    return outcomes


def watch(engine: Engine, inbox: Path, interval: float, log: Log,
          stop: threading.Event, after_import: Callable[[], None] | None = None) -> None:
    """Feed ``inbox`` every ``interval`` seconds until ``stop`` is set. An unreachable
    database is logged and waited out; the files wait in the folder."""
    log(f"{utc_stamp()} watching {inbox} every {interval:g} s (times are UTC)")
    while not stop.is_set():
        try:
            feed_folder(engine, inbox, log, stop, after_import)
        except OperationalError as error:
            log(f"{utc_stamp()} the database is unavailable "
                f"({_one_line(str(error.orig))}); trying again in {interval:g} s")
        stop.wait(interval)
    log(f"{utc_stamp()} stopped watching {inbox}")
