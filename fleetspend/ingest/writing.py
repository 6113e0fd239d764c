"""Writing a checked batch: COPY into temporary staging tables, then set-based upserts.

Each table's rows are copied into a staging table shaped like it (plus the file line); one
statement classifies every staged row against what is stored (inserted: a new key; changed;
unchanged), and one writes the inserted and changed ones with INSERT ... ON CONFLICT.
Machines and volumes may only gain an end time (validated before); usage rows are overwritten
(a correction); an event is inserted or left alone, and one differing from the stored event
of the same key is a conflict. For the machines whose events or end time changed, the event
sequences are checked and the runs rebuilt; then staged usage is checked against the
lifecycle (plausibility.py) before it is written. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import sql
from sqlalchemy import Connection

from fleetspend.ingest import plausibility
from fleetspend.ingest.checks import Batch, Rows
from fleetspend.ingest.records import ONE_HOUR, Problem
from fleetspend.lifecycle import rebuild_runs, sequence_problems
from fleetspend.partitions import ensure_month_partitions


@dataclass(frozen=True)
class Target:
    """How one table is written: which stored columns a re-sent row may change."""

    table: str
    label: str
    changed_word: str
    # columns compared with the stored row of the same key
    compared: tuple[str, ...]
    # whether a row that differs from the stored one overwrites it (else it is a conflict)
    is_overwritten: bool = True


# The allow-list of tables and columns the statements below are composed from.
MACHINES = Target("machines", "machines", "updated", ("destroyed_at",))
EVENTS = Target("machine_events", "machine events", "conflicting",
                ("preset_code", "memory_mb"), is_overwritten=False)
MACHINE_USAGE = Target("machine_usage", "machine usage", "corrected",
                       ("runtime_seconds", "stopped_rootfs_gb_seconds", "egress_internet_gb",
                        "egress_private_gb", "dedicated_ipv4_seconds"))
VOLUMES = Target("volumes", "volumes", "updated", ("deleted_at",))
VOLUME_USAGE = Target("volume_usage", "volume usage", "corrected", ("gb_hours",))


@dataclass
class Outcome:
    """How many rows of one kind were inserted, changed, or already stored as given."""

    inserted: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass
class Written:
    """What writing a batch did, table by table."""

    outcomes: dict[Target, Outcome] = field(default_factory=dict)
    touched_hours: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    rebuilt_machines: list[tuple[int, str]] = field(default_factory=list)


def _columns(columns: tuple[str, ...], prefix: str | None = None) -> sql.Composable:
    if prefix is None:
        return sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL(", ").join(sql.Identifier(prefix, column) for column in columns)


class _Writer:
    """Stages, classifies and writes one table's rows on the import's connection."""

    def __init__(self, connection: Connection, target: Target, rows: Rows) -> None:
        self.raw = connection.connection.driver_connection
        self.target = target
        self.rows = rows
        self.table = sql.Identifier(target.table)
        self.staged_name = f"staged_{target.table}"
        self.staged = sql.Identifier(self.staged_name)
        self.classified = sql.Identifier(f"classified_{target.table}")

    def stage(self) -> None:
        """COPY the rows into a staging table shaped like the target, plus the file line."""
        self.raw.execute(sql.SQL("create temporary table {} (like {}) on commit drop").format(
            self.staged, self.table))
        self.raw.execute(sql.SQL("alter table {} add column line integer not null").format(
            self.staged))
        columns = ("line", *self.rows.columns)
        statement = sql.SQL("copy {} ({}) from stdin").format(self.staged, _columns(columns))
        with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
            for key, row in self.rows.rows.items():
                copy.write_row((self.rows.lines[key],
                                *(row[column] for column in self.rows.columns)))

    def classify(self) -> None:
        """Mark every staged row inserted (new key), changed or unchanged against storage."""
        joined = sql.SQL(" and ").join(
            sql.SQL("stored.{0} = staged.{0}").format(sql.Identifier(column))
            for column in self.rows.key)
        self.raw.execute(sql.SQL("""
            create temporary table {classified} on commit drop as
            select staged.*,
                   case when stored.org_id is null then 'inserted'
                        when ({stored}) is distinct from ({staged_values}) then 'changed'
                        else 'unchanged' end as status
            from {staged} as staged
            left join {table} as stored on {joined}
        """).format(classified=self.classified, stored=_columns(self.target.compared, "stored"),
                    staged_values=_columns(self.target.compared, "staged"),
                    staged=self.staged, table=self.table, joined=joined))

    def write(self) -> None:
        """Insert new rows and overwrite changed ones (when the target allows it)."""
        if self.target.is_overwritten:
            on_conflict = sql.SQL("do update set ({}) = row({})").format(
                _columns(self.target.compared), _columns(self.target.compared, "excluded"))
        else:
            on_conflict = sql.SQL("do nothing")
        self.raw.execute(sql.SQL("""
            insert into {table} ({columns})
            select {columns} from {classified}
            where status <> 'unchanged'
            order by {key}
            on conflict ({key}) {on_conflict}
        """).format(table=self.table, columns=_columns(self.rows.columns),
                    classified=self.classified, key=_columns(self.rows.key),
                    on_conflict=on_conflict))

    def outcome(self) -> Outcome:
        counts = dict(self.raw.execute(sql.SQL(
            "select status, count(*) from {} group by status").format(self.classified)))
        return Outcome(**counts)

    def changed(self, columns: tuple[str, ...]) -> list[tuple]:
        """The given columns of the rows inserted or changed, with their line."""
        return self.raw.execute(sql.SQL(
            "select line, {} from {} where status <> 'unchanged' order by line"
        ).format(_columns(columns), self.classified)).fetchall()

    def touched_hours(self) -> list[tuple[int, datetime, datetime]]:
        return self.raw.execute(sql.SQL(
            "select org_id, min(hour_at), max(hour_at) from {}"
            " where status <> 'unchanged' group by org_id").format(self.classified)).fetchall()


def write_batch(connection: Connection, batch: Batch, problems: list[Problem],
                now: datetime | None = None) -> Written:
    """Write ``batch``; problems only the database can see go into ``problems``, and the
    caller must then roll back. ``now`` (default: the clock) bounds the usage hours."""
    written = Written()
    now = now or datetime.now(UTC)
    # staged usage checked against the stored lifecycle (looked up here, not at import time,
    # so bench/bench_ingest.py can time imports without them)
    implausible = {MACHINE_USAGE: plausibility.machine_usage_problems,
                   VOLUME_USAGE: plausibility.volume_usage_problems}
    affected: set[tuple[int, str]] = set()

    if batch.machines.rows:
        machines = _Writer(connection, MACHINES, batch.machines)
        machines.stage()
        machines.classify()
        machines.write()
        written.outcomes[MACHINES] = machines.outcome()
        affected |= {(org_id, machine_id)
                     for _, org_id, machine_id in machines.changed(("org_id", "machine_id"))}

    if batch.events.rows:
        events = _Writer(connection, EVENTS, batch.events)
        events.stage()
        events.classify()
        conflicts = [(line, preset, memory) for line, preset, memory, status
                     in events.changed(("preset_code", "memory_mb", "status"))
                     if status == "changed"]
        for line, preset, memory in conflicts:
            problems.append(Problem(
                f"differs from the resize stored for this machine and instant "
                f"({preset}, {memory} MB)", line, "preset"))
        if problems:
            return written
        events.write()
        written.outcomes[EVENTS] = events.outcome()
        affected |= {(org_id, machine_id)
                     for _, org_id, machine_id in events.changed(("org_id", "machine_id"))}

    written.rebuilt_machines = sorted(affected)
    if affected:
        for problem in sequence_problems(connection, written.rebuilt_machines):
            line = batch.events.lines.get(
                (problem.org_id, problem.machine_id, problem.event_at, problem.kind))
            if line is None:
                problems.append(Problem(f"after this file's changes, the stored event {problem}"))
            else:
                problems.append(Problem(
                    f"{problem.kind} at {problem.event_at.isoformat()} {problem.problem}"
                    f" (machine {problem.machine_id})", line, "kind"))
        if problems:
            return written
        rebuild_runs(connection, written.rebuilt_machines)

    for target, rows in ((MACHINE_USAGE, batch.machine_usage), (VOLUMES, batch.volumes),
                         (VOLUME_USAGE, batch.volume_usage)):
        if not rows.rows:
            continue
        writer = _Writer(connection, target, rows)
        is_hourly = "hour_at" in rows.columns
        writer.stage()
        if target in implausible:  # before partitions are made for hours that may be wrong
            problems += implausible[target](connection, writer.staged_name, now)
            if problems:
                return written
        if is_hourly:
            all_hours = [row["hour_at"] for row in rows.rows.values()]
            ensure_month_partitions(connection, min(all_hours), max(all_hours) + ONE_HOUR)
        writer.classify()
        writer.write()
        written.outcomes[target] = writer.outcome()
        if is_hourly:
            for org_id, first, last in writer.touched_hours():
                known_first, known_end = written.touched_hours.get(
                    org_id, (first, last + ONE_HOUR))
                written.touched_hours[org_id] = (min(known_first, first),
                                                 max(known_end, last + ONE_HOUR))
    return written
