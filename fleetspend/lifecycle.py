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

from sqlalchemy import Connection, text

# Tie order for events at the same instant. Kept in SQL as a CASE in _ORDERED_EVENTS.
EVENT_ORDER = ("stop", "resize", "start", "destroy")

# The machines to work on: every machine, or those in the two parallel arrays given.
_SCOPE = """
    (cast(:all_machines as boolean)
     or (machines.org_id, machines.machine_id) in (
         select scope.org_id, scope.machine_id
         from unnest(cast(:org_ids as bigint[]), cast(:machine_ids as text[]))
             as scope (org_id, machine_id)))
"""

# Every event of the machines in scope, in order, with the state and size after it. The
# statements below are composed from these constant fragments only; values are bound.
_ORDERED_EVENTS = f"""
with scoped_machines as (
    select machines.org_id, machines.machine_id, machines.preset_code, machines.memory_mb,
           machines.destroyed_at
    from machines
    where {_SCOPE}
),

events as (
    select machine_events.org_id, machine_events.machine_id, machine_events.event_at,
           machine_events.kind, machine_events.preset_code, machine_events.memory_mb,
           case machine_events.kind
               when 'stop' then 1 when 'resize' then 2 when 'start' then 3 else 4
           end as kind_rank
    from machine_events
    join scoped_machines using (org_id, machine_id)
),

-- running counts of the events that set the power state and of resizes: each count opens a
-- group whose first event tells the state (or size) until the next group begins
counted as (
    select events.*,
           count(*) filter (where kind in ('start', 'stop', 'destroy')) over machine_order
               as power_group,
           count(*) filter (where kind = 'resize') over machine_order as size_group,
           bool_or(kind = 'destroy') over (
               partition by org_id, machine_id order by event_at, kind_rank
               rows between unbounded preceding and 1 preceding) as is_after_destroy
    from events
    window machine_order as (
        partition by org_id, machine_id order by event_at, kind_rank
        rows between unbounded preceding and current row)
),

stated as (
    select counted.*,
           case when power_group = 0 then 'stop'
                else first_value(kind) over (
                    partition by org_id, machine_id, power_group order by event_at, kind_rank)
           end as power_after,
           first_value(preset_code) over (
               partition by org_id, machine_id, size_group order by event_at, kind_rank)
               as resized_preset_code,
           first_value(memory_mb) over (
               partition by org_id, machine_id, size_group order by event_at, kind_rank)
               as resized_memory_mb
    from counted
),

ordered_events as (
    select stated.org_id, stated.machine_id, stated.event_at, stated.kind,
           stated.is_after_destroy,
           stated.power_after = 'start' as is_running_after,
           coalesce(lag(stated.power_after) over machine_order, 'stop') = 'start'
               as is_running_before,
           case when stated.size_group = 0 then scoped_machines.preset_code
                else stated.resized_preset_code end as preset_code,
           case when stated.size_group = 0 then scoped_machines.memory_mb
                else stated.resized_memory_mb end as memory_mb,
           lead(stated.event_at) over machine_order as next_event_at,
           scoped_machines.destroyed_at
    from stated
    join scoped_machines using (org_id, machine_id)
    window machine_order as (
        partition by stated.org_id, stated.machine_id order by stated.event_at, stated.kind_rank)
)
"""  # noqa: S608 (constant fragments)

_DELETE_RUNS = f"""
delete from machine_runs
using machines
where machine_runs.org_id = machines.org_id
  and machine_runs.machine_id = machines.machine_id
  and {_SCOPE}
"""  # noqa: S608 (constant fragments)

_INSERT_RUNS = _ORDERED_EVENTS + """
, runs as (
    select org_id, machine_id, event_at as started_at,
           coalesce(next_event_at, destroyed_at) as ended_at,
           preset_code, memory_mb
    from ordered_events
    where is_running_after
      and (kind = 'start' or (kind = 'resize' and is_running_before))
)

insert into machine_runs (org_id, machine_id, started_at, ended_at, preset_code, memory_mb)
select org_id, machine_id, started_at, ended_at, preset_code, memory_mb
from runs
where ended_at is null or ended_at > started_at
"""  # noqa: S608 (constant fragments)

_SEQUENCE_PROBLEMS = _ORDERED_EVENTS + """
select org_id, machine_id, event_at, kind,
       case
           when is_after_destroy then 'comes after the machine was destroyed'
           when destroyed_at is not null and event_at > destroyed_at
               then 'comes after the machine was destroyed at '
                    || to_char(destroyed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           when kind = 'start' and is_running_before then 'starts a machine already running'
           when kind = 'stop' and not is_running_before then 'stops a machine already stopped'
       end as problem
from ordered_events
where is_after_destroy
   or (destroyed_at is not null and event_at > destroyed_at)
   or (kind = 'start' and is_running_before)
   or (kind = 'stop' and not is_running_before)
order by org_id, machine_id, event_at
"""


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
    connection.execute(text(_DELETE_RUNS), parameters)
    return connection.execute(text(_INSERT_RUNS), parameters).rowcount


def sequence_problems(
    connection: Connection, machines: list[tuple[int, str]] | None = None
) -> list[SequenceProblem]:
    """The events of ``machines`` (None: every machine) that make no sense in sequence:
    a start while running, a stop while stopped, anything after a destroy."""
    if machines is not None and not machines:
        return []
    rows = connection.execute(text(_SEQUENCE_PROBLEMS), _scope_parameters(machines))
    return [SequenceProblem(**row) for row in rows.mappings()]
