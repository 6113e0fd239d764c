"""Writing a checked batch: COPY into temporary staging tables, then set-based upserts.

Each table's rows are copied into a staging table shaped like it (plus the file line); one
statement classifies every staged row against what is stored (inserted: a new key; changed;
unchanged), and one writes the inserted and changed ones with INSERT ... ON CONFLICT.
Machines and volumes may only gain an end time (validated before); an event is inserted or
left alone, and one differing from the stored event of the same key is a conflict. For the
machines whose events or end time changed, the event sequences are checked and the runs
rebuilt; then staged usage is checked against the lifecycle (plausibility.py) before it is
written. Everything runs in the caller's transaction.

Usage is one fact per machine-hour (volume-hour): the rows a file gives for a machine and an
hour (one per size the machine had in it) replace every row stored for that machine and hour,
whatever sizes those carry. A re-sent hour that differs is a correction, counted per hour, so
a size fixed after the fact never bills the hour twice. Usage written into a month whose
invoice is already sealed is noted in ``late_usage_periods``: the organization's next draft
carries the difference as adjustment lines (fleetspend/billing/adjustments.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql
from sqlalchemy import Connection

from fleetspend import bulk
from fleetspend.billing import invoice_status
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
    # for usage: the key of one fact (a machine-hour); the rows a file gives for it replace
    # every stored row of it, and outcomes count facts, not rows
    fact_key: tuple[str, ...] = ()


# The allow-list of tables and columns the statements below are composed from.
MACHINES = Target("machines", "machines", "updated", ("destroyed_at",))
EVENTS = Target("machine_events", "machine events", "conflicting",
                ("preset_code", "memory_mb"), is_overwritten=False)
MACHINE_USAGE = Target("machine_usage", "machine-hours", "corrected",
                       ("preset_code", "memory_mb", "runtime_seconds",
                        "stopped_rootfs_gb_seconds", "egress_internet_gb", "egress_private_gb",
                        "dedicated_ipv4_seconds"),
                       fact_key=("org_id", "machine_id", "hour_at"))
VOLUMES = Target("volumes", "volumes", "updated", ("deleted_at",))
VOLUME_USAGE = Target("volume_usage", "volume-hours", "corrected", ("gb_hours",),
                      fact_key=("org_id", "volume_id", "hour_at"))


@dataclass
class Outcome:
    """How many rows of one kind were inserted, changed, or already stored as given."""

    inserted: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class LateUsage:
    """Hours an import changed in a month whose invoice is sealed, and where they are billed."""

    org_slug: str
    period_start: date
    invoice_number: str
    hours: int
    # the earliest draft after the month, which carries the difference; None until one exists
    carried_by: str | None

    def describe(self) -> str:
        where = (f"billed as adjustments on {self.carried_by}" if self.carried_by else
                 f"billed as adjustments on {self.org_slug}'s next invoice drafted")
        return (f"{self.hours} hour{'s' if self.hours != 1 else ''} of {self.org_slug}'s "
                f"{self.period_start:%Y-%m}, already invoiced on {self.invoice_number}: {where}")


@dataclass
class Written:
    """What writing a batch did, table by table."""

    outcomes: dict[Target, Outcome] = field(default_factory=dict)
    touched_hours: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    rebuilt_machines: list[tuple[int, str]] = field(default_factory=list)
    late_usage: list[LateUsage] = field(default_factory=list)


# The hours this import changed in sealed months, noted for the next draft to carry. Composed
# from the usage writers' classified tables (fixed names) only.
_CHANGED_FACTS = ("select org_id, {resource} as resource_id, hour_at from {classified} "
                  "where status <> 'unchanged'")
_NOTE_LATE_USAGE = """
with touched as (
    {changed}
),

by_month as (
    select org_id, cast(date_trunc('month', hour_at at time zone 'UTC') as date)
               as period_start_date,
           count(distinct (resource_id, hour_at)) as hours
    from touched
    group by 1, 2
),

sealed as (
    select by_month.*, invoices.invoice_number
    from by_month
    join invoices using (org_id, period_start_date)
    where invoices.status = any(%(sealed_statuses)s)
),

noted as (
    insert into late_usage_periods (org_id, period_start_date)
    select org_id, period_start_date from sealed
    on conflict do nothing
)

select organizations.slug, sealed.period_start_date, sealed.invoice_number, sealed.hours,
       (select drafts.invoice_number from invoices as drafts
        where drafts.org_id = sealed.org_id and drafts.status = 'draft'
          and drafts.period_start_date > sealed.period_start_date
        order by drafts.period_start_date limit 1) as carried_by
from sealed
join organizations using (org_id)
order by organizations.slug, sealed.period_start_date
"""


def _note_late_usage(raw: psycopg.Connection, writers: list[_Writer]) -> list[LateUsage]:
    changed = sql.SQL(" union all ").join(
        sql.SQL(_CHANGED_FACTS).format(resource=sql.Identifier(writer.target.fact_key[1]),
                                       classified=writer.classified)
        for writer in writers)
    rows = raw.execute(sql.SQL(_NOTE_LATE_USAGE).format(changed=changed),
                       invoice_status.sealed_params()).fetchall()
    return [LateUsage(*row) for row in rows]


def _columns(columns: tuple[str, ...], prefix: str | None = None) -> sql.Composable:
    if prefix is None:
        return sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL(", ").join(sql.Identifier(prefix, column) for column in columns)


class _Writer:
    """Stages, classifies and writes one table's rows on the import's connection."""

    def __init__(self, connection: Connection, target: Target, rows: Rows) -> None:
        self.raw = bulk.driver_connection(connection)
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
        if self.target.fact_key:
            # temporary tables have no statistics until analyzed; the usage checks
            # (plausibility.py) and the classification plan on them
            self.raw.execute(sql.SQL("analyze {}").format(self.staged))

    def classify(self) -> None:
        """Mark every staged row inserted (new key), changed or unchanged against storage."""
        if self.target.fact_key:
            self._classify_facts()
            return
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

    def _classify_facts(self) -> None:
        """Mark every staged row with the status of its fact (machine-hour): inserted when
        nothing is stored for it, unchanged when the stored rows are exactly the staged ones,
        else changed (the stored rows are replaced).

        The stored rows of each fact are looked up by their primary key's prefix, one probe a
        fact, within the staged hours' bounds (so the planner reads only their months): a join
        would hash a whole month of the usage table (minutes for one hour of 10,000 machines).
        """
        fact = _columns(self.target.fact_key)
        compared = _columns(self.target.compared)
        matched = sql.SQL(" and ").join(
            sql.SQL("stored.{0} = staged_facts.{0}").format(sql.Identifier(column))
            for column in self.target.fact_key)
        bounds = self.raw.execute(sql.SQL("select min(hour_at), max(hour_at) from {}").format(
            self.staged)).fetchone()
        self.raw.execute(sql.SQL("""
            create temporary table {classified} on commit drop as
            with staged_facts as (
                select {fact},
                       array_agg(row({compared})::text order by row({compared})::text)
                           as fact_rows
                from {staged} group by {fact}
            ),
            classified_facts as (
                select staged_facts.*,
                       (select array_agg(row({stored_compared})::text
                                         order by row({stored_compared})::text)
                        from {table} as stored
                        where {matched} and stored.hour_at between %s and %s) as stored_rows
                from staged_facts
            )
            select staged.*,
                   case when classified_facts.stored_rows is null then 'inserted'
                        when classified_facts.stored_rows <> classified_facts.fact_rows
                            then 'changed'
                        else 'unchanged' end as status
            from {staged} as staged
            join classified_facts using ({fact})
        """).format(classified=self.classified, fact=fact, compared=compared,
                    stored_compared=_columns(self.target.compared, "stored"), matched=matched,
                    staged=self.staged, table=self.table), bounds)

    def _replace_facts(self) -> None:
        """Delete every stored row of the changed facts, then insert the staged rows of the
        inserted and changed ones (the hour bounds let the planner skip other months)."""
        fact = _columns(self.target.fact_key)
        matched = sql.SQL(" and ").join(
            sql.SQL("{table}.{column} = replaced.{column}").format(
                table=self.table, column=sql.Identifier(column))
            for column in self.target.fact_key)
        first, last = self.raw.execute(sql.SQL(
            "select min(hour_at), max(hour_at) from {} where status = 'changed'").format(
            self.classified)).fetchone() or (None, None)
        if first is not None:
            self.raw.execute(sql.SQL("""
                delete from {table}
                using (select distinct {fact} from {classified} where status = 'changed')
                    as replaced
                where {matched} and {table}.hour_at between %s and %s
            """).format(table=self.table, fact=fact, classified=self.classified,
                        matched=matched), (first, last))
        self.raw.execute(sql.SQL("""
            insert into {table} ({columns})
            select {columns} from {classified}
            where status <> 'unchanged'
            order by {key}
        """).format(table=self.table, columns=_columns(self.rows.columns),
                    classified=self.classified, key=_columns(self.rows.key)))

    def write(self) -> None:
        """Insert new rows and overwrite changed ones (when the target allows it)."""
        if self.target.fact_key:
            self._replace_facts()
            return
        on_conflict: sql.Composable
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
        counted = (sql.SQL("count(distinct ({}))").format(_columns(self.target.fact_key))
                   if self.target.fact_key else sql.SQL("count(*)"))
        counts: dict[str, int] = dict(self.raw.execute(sql.SQL(
            "select status, {} from {} group by status").format(counted, self.classified)))
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

    usage_writers: list[_Writer] = []
    for target, rows in ((MACHINE_USAGE, batch.machine_usage), (VOLUMES, batch.volumes),
                         (VOLUME_USAGE, batch.volume_usage)):
        if not rows.rows:
            continue
        writer = _Writer(connection, target, rows)
        is_hourly = bool(target.fact_key)
        writer.stage()
        if target in implausible:  # before partitions are made for hours that may be wrong
            problems += implausible[target](connection, now)
            if problems:
                return written
        if is_hourly:
            all_hours = [row["hour_at"] for row in rows.rows.values()]
            ensure_month_partitions(connection, min(all_hours), max(all_hours) + ONE_HOUR)
        writer.classify()
        writer.write()
        written.outcomes[target] = writer.outcome()
        if is_hourly:
            usage_writers.append(writer)
            for org_id, first, last in writer.touched_hours():
                known_first, known_end = written.touched_hours.get(
                    org_id, (first, last + ONE_HOUR))
                written.touched_hours[org_id] = (min(known_first, first),
                                                 max(known_end, last + ONE_HOUR))
    if usage_writers:
        written.late_usage = _note_late_usage(usage_writers[0].raw, usage_writers)
    return written
