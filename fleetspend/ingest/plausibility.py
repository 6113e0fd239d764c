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
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, text

from fleetspend import bulk
from fleetspend.ingest.records import SECONDS_PER_HOUR, Problem

# How far a platform's meters may disagree with a lifecycle event's time, at each run edge
# (and once per machine-hour for runtime plus stopped time).
EDGE_TOLERANCE = timedelta(seconds=5)
_TOLERANCE_SECONDS = int(EDGE_TOLERANCE.total_seconds())

# Per machine in the file: the hours it has there (its span, widened by the tolerance), its
# facts, and the last run started at or before the span (one index probe), which may still be
# going when the span begins and anchors the size timeline (else creation does). Kept in an
# analyzed temporary table: with estimates from a CTE instead, the plan of a day of 10,000
# machines nests loops over the staged rows (minutes instead of seconds).
_MACHINE_ANCHORS = """
create temporary table {anchors} on commit drop as
with spans as (
    select org_id, machine_id,
           min(hour_at) - %(tolerance)s as first_at,
           max(hour_at) + interval '1 hour' + %(tolerance)s as end_at
    from {staged}
    group by org_id, machine_id
)

select spans.org_id, spans.machine_id, spans.first_at, spans.end_at,
       machines.rootfs_gb, machines.created_at, machines.destroyed_at,
       last_run.started_at as run_started_at, last_run.ended_at as run_ended_at,
       last_run.preset_code as run_preset_code, last_run.memory_mb as run_memory_mb,
       coalesce(last_run.started_at, machines.created_at) as anchor_at,
       coalesce(last_run.preset_code, machines.preset_code) as anchor_preset_code,
       coalesce(last_run.memory_mb, machines.memory_mb) as anchor_memory_mb
from spans
join machines using (org_id, machine_id)
left join lateral (
    select machine_runs.started_at, machine_runs.ended_at, machine_runs.preset_code,
           machine_runs.memory_mb
    from machine_runs
    where machine_runs.org_id = spans.org_id
      and machine_runs.machine_id = spans.machine_id
      and machine_runs.started_at <= spans.first_at
    order by machine_runs.started_at desc
    limit 1
) as last_run on true
"""

# The staged table and the anchors are read directly (not through CTEs) so their statistics
# reach the plan.
_MACHINE_USAGE = """
with
-- every run overlapping a span: the anchor run if still going, and the runs begun inside it
runs as (
    select org_id, machine_id, run_started_at as started_at,
           coalesce(run_ended_at, 'infinity') as ended_at,
           run_preset_code as preset_code, run_memory_mb as memory_mb
    from {anchors} as anchors
    where coalesce(run_ended_at, 'infinity') > first_at
    union all
    select machine_runs.org_id, machine_runs.machine_id, machine_runs.started_at,
           coalesce(machine_runs.ended_at, 'infinity'), machine_runs.preset_code,
           machine_runs.memory_mb
    from {anchors} as anchors
    join machine_runs using (org_id, machine_id)
    where machine_runs.started_at > anchors.first_at
      and machine_runs.started_at < anchors.end_at
),

-- the size timeline from each anchor to the end of its span: the anchor's size, then resizes
size_changes as (
    select org_id, machine_id, anchor_at as changed_at, 0 as change_rank,
           anchor_preset_code as preset_code, anchor_memory_mb as memory_mb
    from {anchors} as anchors
    union all
    select machine_events.org_id, machine_events.machine_id, machine_events.event_at, 1,
           machine_events.preset_code, machine_events.memory_mb
    from {anchors} as anchors
    join machine_events using (org_id, machine_id)
    where machine_events.event_at >= anchors.anchor_at
      and machine_events.event_at < anchors.end_at
      and machine_events.kind = 'resize'
),

sizes as (
    select org_id, machine_id, preset_code, memory_mb, changed_at as from_at,
           coalesce(lead(changed_at) over (
               partition by org_id, machine_id order by changed_at, change_rank),
               'infinity') as until_at
    from size_changes
),

-- per row with runtime: the seconds runs of its size overlap its hour (each run widened by
-- the tolerance at both edges, clipped to the hour), and the sizes that ran in the hour
row_runs as (
    select staged.line,
           coalesce(sum(extract(epoch from
               least(runs.ended_at + %(tolerance)s, staged.hour_at + interval '1 hour')
               - greatest(runs.started_at - %(tolerance)s, staged.hour_at)))
               filter (where runs.preset_code = staged.preset_code
                         and runs.memory_mb = staged.memory_mb), 0) as size_run_seconds,
           bool_or(runs.preset_code = staged.preset_code
                   and runs.memory_mb = staged.memory_mb) as ran_at_size,
           array_agg(distinct runs.preset_code || ' with ' || runs.memory_mb || ' MB')
               filter (where runs.started_at is not null) as run_sizes
    from {staged} as staged
    left join runs
      on runs.org_id = staged.org_id and runs.machine_id = staged.machine_id
     and runs.started_at - %(tolerance)s < staged.hour_at + interval '1 hour'
     and runs.ended_at + %(tolerance)s > staged.hour_at
    where staged.runtime_seconds > 0
    group by staged.line
),

-- per row without runtime: whether the machine had its size at some moment of the hour
row_sizes as (
    select staged.line,
           bool_or(sizes.preset_code = staged.preset_code
                   and sizes.memory_mb = staged.memory_mb) as had_size,
           array_agg(distinct sizes.preset_code || ' with ' || sizes.memory_mb || ' MB')
               as had_sizes
    from {staged} as staged
    join sizes
      on sizes.org_id = staged.org_id and sizes.machine_id = staged.machine_id
     and sizes.from_at - %(tolerance)s < staged.hour_at + interval '1 hour'
     and sizes.until_at + %(tolerance)s > staged.hour_at
    where staged.runtime_seconds = 0
    group by staged.line
),

-- every row with its machine-hour's totals over all its rows (runtime plus stopped time,
-- against the seconds the machine existed in the hour); window functions, not a join back
hour_rows as (
    select staged.line, staged.org_id, staged.machine_id, staged.hour_at,
           staged.preset_code, staged.memory_mb, staged.runtime_seconds,
           staged.stopped_rootfs_gb_seconds, anchors.rootfs_gb,
           sum(staged.runtime_seconds) over machine_hour as hour_runtime_seconds,
           sum(staged.stopped_rootfs_gb_seconds) over machine_hour / anchors.rootfs_gb
               as hour_stopped_seconds,
           bool_or(staged.stopped_rootfs_gb_seconds > anchors.rootfs_gb * {hour})
               over machine_hour as has_row_over_rootfs,
           array_agg(staged.line) over machine_hour as hour_lines,
           extract(epoch from
               least(coalesce(anchors.destroyed_at, 'infinity'),
                     staged.hour_at + interval '1 hour')
               - greatest(anchors.created_at, staged.hour_at)) as hour_existed_seconds
    from {staged} as staged
    join {anchors} as anchors using (org_id, machine_id)
    window machine_hour as (
        partition by staged.org_id, staged.machine_id, staged.hour_at order by staged.line
        rows between unbounded preceding and unbounded following)
),

checked as (
    select hour_rows.*,
           hour_rows.hour_at > %(current_hour)s as is_future,
           row_runs.size_run_seconds, row_runs.ran_at_size, row_runs.run_sizes,
           row_sizes.had_size, row_sizes.had_sizes,
           hour_rows.line = hour_rows.hour_lines[array_upper(hour_rows.hour_lines, 1)]
               and not hour_rows.has_row_over_rootfs
               and hour_rows.hour_runtime_seconds + hour_rows.hour_stopped_seconds
                   > hour_rows.hour_existed_seconds + {tolerance_seconds} as is_hour_over
    from hour_rows
    left join row_runs using (line)
    left join row_sizes using (line)
)

select checked.*,
       case when checked.runtime_seconds > 0 and checked.run_sizes is null
            then exists (select from machine_runs
                         where machine_runs.org_id = checked.org_id
                           and machine_runs.machine_id = checked.machine_id)
       end as has_ever_run
from checked
where is_future
   or (runtime_seconds > 0 and (run_sizes is null or not ran_at_size
                                or runtime_seconds > size_run_seconds))
   or (runtime_seconds = 0 and not had_size)
   or stopped_rootfs_gb_seconds > rootfs_gb * {hour}
   or is_hour_over
order by line
"""

_VOLUME_USAGE = """
select staged.line, staged.volume_id, staged.hour_at, staged.gb_hours, volumes.size_gb,
       staged.hour_at > %(current_hour)s as is_future
from {staged} as staged
join volumes using (org_id, volume_id)
where staged.hour_at > %(current_hour)s
   or staged.gb_hours > volumes.size_gb
order by staged.line
"""


def _current_hour(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rows(connection: Connection, query: str, staged_table: str,
          parameters: dict[str, Any], anchors: str | None = None) -> list[dict[str, Any]]:
    """The rows of ``query`` on the staged table (analyzed when it was staged), after
    creating and analyzing ``anchors`` (a statement making a temporary table from it) if
    given."""
    names = {"staged": sql.Identifier(staged_table),
             "anchors": sql.Identifier(f"{staged_table}_anchors"),
             "hour": sql.Literal(SECONDS_PER_HOUR),
             "tolerance_seconds": sql.Literal(_TOLERANCE_SECONDS)}
    raw = bulk.driver_connection(connection)
    with raw.cursor() as cursor:
        # JIT compiling these statements costs more than it saves: a day of 10,000 machines
        # took 3.5 to 4.9 s with it, 1.8 s without; switched off for them only (an error
        # rolls the transaction back, and the setting with it)
        jit = connection.execute(text("select current_setting('jit')")).scalar_one()
        cursor.execute("select set_config('jit', 'off', true)")
        if anchors is not None:
            # temporary tables have no statistics until analyzed (see _MACHINE_ANCHORS)
            cursor.execute(sql.SQL("drop table if exists {anchors}").format(**names))
            cursor.execute(sql.SQL(anchors).format(**names), parameters)
            cursor.execute(sql.SQL("analyze {anchors}").format(**names))
        cursor.execute(sql.SQL(query).format(**names), parameters)
        columns = [column.name for column in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute("select set_config('jit', %s, true)", (jit,))
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


def machine_usage_problems(connection: Connection, staged_table: str,
                           now: datetime) -> list[Problem]:
    """The problems of the staged machine usage rows that cannot have happened (see above)."""
    current_hour = _current_hour(now)
    problems = []
    for row in _rows(connection, _MACHINE_USAGE, staged_table,
                     {"tolerance": EDGE_TOLERANCE, "current_hour": current_hour},
                     anchors=_MACHINE_ANCHORS):
        if row["is_future"]:
            problems.append(_future_problem(row, current_hour))
        else:
            problems += _machine_row_problems(row)
    return problems


def volume_usage_problems(connection: Connection, staged_table: str,
                          now: datetime) -> list[Problem]:
    """The problems of the staged volume usage rows: GB-hours over the volume's size, hours
    after the current one."""
    current_hour = _current_hour(now)
    problems = []
    for row in _rows(connection, _VOLUME_USAGE, staged_table,
                     {"current_hour": current_hour}):
        if row["is_future"]:
            problems.append(_future_problem(row, current_hour))
        else:
            problems.append(Problem(
                f"{_exact(row['gb_hours'])} GB-hours is more than a {row['size_gb']} GB volume "
                f"accrues in an hour, by {_exact(row['gb_hours'] - row['size_gb'])}",
                row["line"], "gb_hours"))
    return problems
