"""Machine runs derived from lifecycle events, and the checks that event sequences make sense.

A machine is created stopped at ``machines.created_at`` with ``machines.preset_code`` and
``machines.memory_mb`` as its size. Its events, taken in time order, move it along:

- ``start`` begins a run at the machine's current size;
- ``stop`` and ``destroy`` end the running run (if any);
- ``resize`` changes the size; while running it ends the current run and begins a new one at
  the same instant with the new size.

A run still going has ``ended_at`` null, unless the machine has a ``destroyed_at`` and no
later event, in which case the run ends there. Events at the same instant are taken in the
order stop, resize, start, destroy (so "stop and resize at noon" or "resize and start at noon"
mean what they say, and a stop and a start at the same instant are a restart). A start and a
destroy at the same instant make no run.

Both functions are set-based: one statement each, window functions over the events of the
machines asked for (or of every machine), so they scale with the data, not with round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from fleetspend.sqlfiles import SqlFolder

# Tie order for events at the same instant. Kept in SQL as a CASE in
# sql/lifecycle/ordered_machine_events.sql.
EVENT_ORDER = ("stop", "resize", "start", "destroy")

# The statements (sql/lifecycle/): the machines in scope, then their events in order, then what each
# function does with them; whole files joined in that order, values bound.
_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "lifecycle")
_SCOPED = "scoped_machines"
_ORDERED = (_SCOPED, "ordered_machine_events")


@dataclass(frozen=True)
class SequenceProblem:
    """One event that makes no sense where it stands in its machine's sequence."""

    org_id: int
    machine_id: str
    event_at: datetime
    kind: str
    problem: str

    def __str__(self) -> str:
        return (f"machine {self.machine_id}: {self.kind} at {self.event_at.isoformat()} "
                f"{self.problem}")


def _scope_parameters(machines: list[tuple[int, str]] | None) -> dict:
    if machines is None:
        return {"all_machines": True, "org_ids": [], "machine_ids": []}
    return {
        "all_machines": False,
        "org_ids": [org_id for org_id, _ in machines],
        "machine_ids": [machine_id for _, machine_id in machines],
    }


def rebuild_runs(connection: Connection, machines: list[tuple[int, str]] | None = None) -> int:
    """Replace the runs of ``machines`` ((org_id, machine_id) pairs; None means every machine)
    with those derived from their events. Returns the number of runs written.

    Runs inside the caller's transaction. Sequences that make no sense (see
    :func:`sequence_problems`) still give non-overlapping runs, but callers should reject them.
    """
    parameters = _scope_parameters(machines)
    if machines is not None and not machines:
        return 0
    connection.execute(_STATEMENTS.sql(_SCOPED, "delete_machine_runs"), parameters)
    return connection.execute(_STATEMENTS.sql(*_ORDERED, "insert_machine_runs"),
                              parameters).rowcount


def sequence_problems(
    connection: Connection, machines: list[tuple[int, str]] | None = None
) -> list[SequenceProblem]:
    """The events of ``machines`` (None: every machine) that make no sense in sequence:
    a start while running, a stop while stopped, anything after a destroy."""
    if machines is not None and not machines:
        return []
    rows = connection.execute(_STATEMENTS.sql(*_ORDERED, "machine_event_problems"),
                              _scope_parameters(machines))
    return [SequenceProblem(**row) for row in rows.mappings()]
