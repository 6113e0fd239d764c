"""Usage checked against what the platform said happened: a file's hours that cannot be true.

Run on an import's staged usage (a temporary table shaped like ``machine_usage`` or
``volume_usage`` plus the file ``line``), after the machines, volumes and events of the file
are written and the runs of the machines whose events changed are rebuilt. The rows of one
machine-hour in the file are everything that hour will hold (a re-sent hour replaces what is
stored), so each check is about the file's rows alone, against the stored lifecycle:

- runtime only inside the machine's runs: a row's ``runtime_seconds`` is at most the seconds
  runs of its size overlap its hour; a machine never started runs no second;
- the size of a row with runtime is the size of a run in that hour; a row without runtime
  (a stopped hour) carries a size the machine had at some moment of the hour: its declared
  size until the first resize, then each resize's (the hour overlaps the machine's lifetime,
  checked before, so such a size always exists);
- ``stopped_rootfs_gb_seconds`` at most ``rootfs_gb`` x 3,600 in a row, and over all rows of a
  machine-hour, runtime plus stopped time (GB-seconds / ``rootfs_gb``) at most the seconds the
  machine existed in that hour (3,600 for a whole hour);
- a volume's ``gb_hours`` at most its ``size_gb`` (one hour of the whole volume);
- no hour after the current one (the hour in progress is allowed).

Platforms meter run edges a few seconds apart from the event times, so runs (and the sizes of
stopped hours) are widened by :data:`EDGE_TOLERANCE` at each edge, and a machine-hour may
exceed its existing seconds by :data:`EDGE_TOLERANCE` once. The checks are set-based: for
machines, one statement gathers each machine's facts and anchor run, a second checks every
staged row; for volumes, one statement. Only the rows in violation come back, as problems.
They read the import's staging tables by name, ``staged_machine_usage`` and
``staged_volume_usage`` (writing.py stages each table's rows in ``staged_<table>``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from fleetspend import db
from fleetspend.ingest.records import SECONDS_PER_HOUR, Problem
from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")

# How far a platform's meters may disagree with a lifecycle event's time, at each run edge
# (and once per machine-hour for runtime plus stopped time).
EDGE_TOLERANCE = timedelta(seconds=5)
_TOLERANCE_SECONDS = int(EDGE_TOLERANCE.total_seconds())


def _current_hour(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rows(connection: Connection, query: str, parameters: dict[str, Any], *,
          anchored: bool = False) -> list[dict[str, Any]]:
    """The rows of the statement ``query`` on its staged table (analyzed when it was staged),
    after staging and analyzing the machines' anchors (sql/machine_usage_anchors.sql) if
    ``anchored``."""
    parameters = {**parameters, "hour_seconds": SECONDS_PER_HOUR,
                  "tolerance": EDGE_TOLERANCE, "tolerance_seconds": _TOLERANCE_SECONDS}
    # JIT compiling these statements costs more than it saves: a day of 10,000 machines
    # took 3.5 to 4.9 s with it, 1.8 s without; switched off for them only (an error
    # rolls the transaction back, and the setting with it)
    jit = connection.execute(_STATEMENTS.sql("jit_setting")).scalar_one()
    db.set_local(connection, {"jit": "off"})
    if anchored:
        connection.execute(_STATEMENTS.sql("drop_machine_usage_anchors"))
        connection.execute(_STATEMENTS.sql("machine_usage_anchors"), parameters)
        connection.execute(_STATEMENTS.sql("analyze_machine_usage_anchors"))
    rows = [dict(row) for row in connection.execute(_STATEMENTS.sql(query), parameters
                                                    ).mappings()]
    db.set_local(connection, {"jit": jit})
    return rows


def _exact(value: Decimal | int) -> str:
    """A quantity for a message, without trailing zeros (1000.000000 -> 1000)."""
    return f"{Decimal(value).normalize():f}"


def _seconds(value: Decimal | int) -> str:
    """Seconds for a message: whole when whole, else to the millisecond."""
    return _exact(Decimal(value).quantize(Decimal("0.001")))


def _future_problem(row: dict[str, Any], current_hour: datetime) -> Problem:
    hours = int((row["hour_at"] - current_hour) / timedelta(hours=1))
    return Problem(f"{row['hour_at'].isoformat()} is {hours} hour{'s' if hours != 1 else ''} "
                   f"after the current hour {current_hour.isoformat()}; usage is only "
                   "accepted for hours that have begun", row["line"], "hour_at")


def _size_field(row: dict[str, Any], sizes: list[str]) -> str:
    """preset when no size named has the row's preset, else memory_mb."""
    same_preset = any(size.startswith(f"{row['preset_code']} with ") for size in sizes)
    return "memory_mb" if same_preset else "preset"


def _machine_row_problems(row: dict[str, Any]) -> list[Problem]:
    line, machine, hour = row["line"], row["machine_id"], row["hour_at"].isoformat()
    size = f"{row['preset_code']} with {row['memory_mb']} MB"
    runtime = row["runtime_seconds"]
    problems = []
    if runtime > 0 and row["run_sizes"] is None:
        if row["has_ever_run"]:
            reason = f"did not run in the hour {hour} (no run of it overlaps that hour)"
        else:
            reason = "was never started (no start event is stored or in the file)"
        problems.append(Problem(f"{runtime} seconds of runtime, but machine {machine} {reason}; "
                                f"{runtime} seconds too many", line, "runtime_seconds"))
    elif runtime > 0 and not row["ran_at_size"]:
        ran = " and ".join(sorted(row["run_sizes"]))
        problems.append(Problem(f"machine {machine} ran as {ran} in the hour {hour}, not as "
                                f"{size}", line, _size_field(row, row["run_sizes"])))
    elif runtime > 0 and runtime > row["size_run_seconds"]:
        allowed = row["size_run_seconds"]
        problems.append(Problem(
            f"{runtime} seconds of runtime, but machine {machine} ran as {size} for at most "
            f"{_seconds(allowed)} seconds of the hour {hour} (its runs, each edge widened by "
            f"{_TOLERANCE_SECONDS} seconds); {_seconds(runtime - allowed)} seconds too many",
            line, "runtime_seconds"))
    if runtime == 0 and not row["had_size"]:
        had = " and ".join(sorted(row["had_sizes"]))
        problems.append(Problem(f"machine {machine} was {had} in the hour {hour}, not {size}",
                                line, _size_field(row, row["had_sizes"])))
    limit = row["rootfs_gb"] * SECONDS_PER_HOUR
    stopped = row["stopped_rootfs_gb_seconds"]
    if stopped > limit:
        problems.append(Problem(
            f"{_exact(stopped)} GB-seconds is more than the {limit} GB-seconds a "
            f"{row['rootfs_gb']} GB root filesystem accrues in an hour, by "
            f"{_exact(stopped - limit)}", line,
            "stopped_rootfs_gb_seconds"))
    if row["is_hour_over"]:
        total = row["hour_runtime_seconds"] + row["hour_stopped_seconds"]
        existed = row["hour_existed_seconds"]
        lines = ", ".join(map(str, row["hour_lines"]))
        plural = "s" if len(row["hour_lines"]) > 1 else ""
        problems.append(Problem(
            f"machine {machine} runs {row['hour_runtime_seconds']} seconds and is stopped "
            f"{_seconds(row['hour_stopped_seconds'])} seconds (stopped_rootfs_gb_seconds / "
            f"rootfs_gb {row['rootfs_gb']}) in the hour {hour} across line{plural} {lines}: "
            f"{_seconds(total)} seconds, "
            f"{_seconds(total - existed)} more than the {_seconds(existed)} seconds it existed "
            f"in that hour ({_TOLERANCE_SECONDS} more are tolerated)", line,
            "stopped_rootfs_gb_seconds" if row["hour_stopped_seconds"] else "runtime_seconds"))
    return problems


def machine_usage_problems(connection: Connection, now: datetime) -> list[Problem]:
    """The problems of the staged machine usage rows that cannot have happened (see above)."""
    current_hour = _current_hour(now)
    problems = []
    for row in _rows(connection, "implausible_machine_usage", {"current_hour": current_hour},
                     anchored=True):
        if row["is_future"]:
            problems.append(_future_problem(row, current_hour))
        else:
            problems += _machine_row_problems(row)
    return problems


def volume_usage_problems(connection: Connection, now: datetime) -> list[Problem]:
    """The problems of the staged volume usage rows: GB-hours over the volume's size, hours
    after the current one."""
    current_hour = _current_hour(now)
    problems = []
    for row in _rows(connection, "implausible_volume_usage", {"current_hour": current_hour}):
        if row["is_future"]:
            problems.append(_future_problem(row, current_hour))
        else:
            problems.append(Problem(
                f"{_exact(row['gb_hours'])} GB-hours is more than a {row['size_gb']} GB volume "
                f"accrues in an hour, by {_exact(row['gb_hours'] - row['size_gb'])}",
                row["line"], "gb_hours"))
    return problems
