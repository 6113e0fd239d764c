"""Checking parsed records against the database and each other, and turning them into rows.

Names in the file (organization slugs, app names, regions, presets) are resolved to keys;
machines and volumes a record refers to must be declared in the file or stored already;
repeated keys must agree; times must fall inside lifetimes; sizes must fit their preset. The
result is the rows to write, table by table, each with the line it came from. Nothing here
writes: the reads run in the import's transaction, before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from fleetspend.ingest.records import ONE_HOUR, Problem, Record
from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")

MachineKey = tuple[int, str]

# file fields stored under another column name (the others keep their name)
COLUMN_OF_FIELD = {"region": "region_code", "preset": "preset_code", "app": "app_id"}
FIELD_OF_COLUMN = {column: name for name, column in COLUMN_OF_FIELD.items()}

MACHINE_COLUMNS = ("org_id", "machine_id", "app_id", "region_code", "preset_code", "memory_mb",
                   "rootfs_gb", "created_at", "destroyed_at")
EVENT_COLUMNS = ("org_id", "machine_id", "event_at", "kind", "preset_code", "memory_mb")
MACHINE_USAGE_COLUMNS = ("org_id", "machine_id", "hour_at", "preset_code", "memory_mb",
                         "runtime_seconds", "stopped_rootfs_gb_seconds", "egress_internet_gb",
                         "egress_private_gb", "dedicated_ipv4_seconds")
VOLUME_COLUMNS = ("org_id", "volume_id", "app_id", "region_code", "size_gb", "machine_id",
                  "created_at", "deleted_at")
VOLUME_USAGE_COLUMNS = ("org_id", "volume_id", "hour_at", "gb_hours")


@dataclass
class Rows:
    """Rows for one table, keyed by primary key, each with the line it came from."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    rows: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    lines: dict[tuple, int] = field(default_factory=dict)

    def key_of(self, row: dict[str, Any]) -> tuple:
        return tuple(row[column] for column in self.key)

    def add(self, row: dict[str, Any], line: int, problems: list[Problem],
            description: str) -> None:
        """Add a row; the same key again must carry the same values (then it is kept once)."""
        key = self.key_of(row)
        earlier = self.rows.get(key)
        if earlier is None:
            self.rows[key] = row
            self.lines[key] = line
            return
        for column in self.columns:
            if earlier[column] != row[column]:
                name = _field_of_column(column)
                problems.append(Problem(
                    f"{_shown(row[column])} differs from {_shown(earlier[column])} given for "
                    f"the same {description} on line {self.lines[key]}", line, name))
                return


@dataclass
class Batch:
    """Everything a valid file asks to write."""

    machines: Rows = field(default_factory=lambda: Rows(MACHINE_COLUMNS,
                                                        ("org_id", "machine_id")))
    events: Rows = field(default_factory=lambda: Rows(
        EVENT_COLUMNS, ("org_id", "machine_id", "event_at", "kind")))
    machine_usage: Rows = field(default_factory=lambda: Rows(
        MACHINE_USAGE_COLUMNS, ("org_id", "machine_id", "hour_at", "preset_code", "memory_mb")))
    volumes: Rows = field(default_factory=lambda: Rows(VOLUME_COLUMNS, ("org_id", "volume_id")))
    volume_usage: Rows = field(default_factory=lambda: Rows(
        VOLUME_USAGE_COLUMNS, ("org_id", "volume_id", "hour_at")))


def _field_of_column(column: str) -> str:
    return FIELD_OF_COLUMN.get(column, column)


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return f'"{value}"'
    return "nothing" if value is None else str(value)


@dataclass
class Catalog:
    """What the database already knows that the file's records refer to."""

    org_ids: dict[str, int]
    closed_at: dict[int, datetime]  # the closed organizations: no usage from then on
    app_ids: dict[tuple[int, str], int]
    app_names: dict[tuple[int, int], str]
    regions: set[str]
    memory_ranges: dict[str, tuple[int, int]]
    machines: dict[MachineKey, dict[str, Any]]
    volumes: dict[tuple[int, str], dict[str, Any]]


def _pairs(keys: set[tuple[int, str]]) -> dict[str, list]:
    return {"org_ids": [key[0] for key in keys], "ids": [key[1] for key in keys]}


def load_catalog(connection: Connection, records: list[Record]) -> Catalog:
    """Look up everything the records name, in a handful of set-based queries."""
    slugs = sorted({record.values["org"] for record in records if record.values["org"]})
    org_rows = connection.execute(_STATEMENTS.sql("named_organizations"), {"slugs": slugs}).all()
    org_ids = {slug: org_id for slug, org_id, _ in org_rows}
    # every app of the organizations named: names to resolve, and names to show for the apps
    # of stored machines
    app_rows = connection.execute(_STATEMENTS.sql("apps_of_organizations"),
                                  {"org_ids": list(org_ids.values())}).all()
    regions = set(connection.execute(_STATEMENTS.sql("region_codes")).scalars())
    memory_ranges = {
        preset: (cpus * low, cpus * high)
        for preset, cpus, low, high in connection.execute(_STATEMENTS.sql("preset_memory_ranges"))
    }
    machine_keys = {(org_ids[r.values["org"]], r.values["machine_id"])
                    for r in records
                    if r.values.get("machine_id") and r.values["org"] in org_ids}
    machines = {
        (row["org_id"], row["machine_id"]): dict(row)
        for row in connection.execute(_STATEMENTS.sql("stored_machines"),
                                      _pairs(machine_keys)).mappings()
    }
    volume_keys = {(org_ids[r.values["org"]], r.values["volume_id"])
                   for r in records
                   if r.values.get("volume_id") and r.values["org"] in org_ids}
    volumes = {
        (row["org_id"], row["volume_id"]): dict(row)
        for row in connection.execute(_STATEMENTS.sql("stored_volumes"),
                                      _pairs(volume_keys)).mappings()
    }
    return Catalog(
        org_ids=org_ids,
        closed_at={org_id: closed for _, org_id, closed in org_rows if closed is not None},
        app_ids={(org_id, name): app_id for org_id, name, app_id in app_rows},
        app_names={(org_id, app_id): name for org_id, name, app_id in app_rows},
        regions=regions,
        memory_ranges=memory_ranges,
        machines=machines,
        volumes=volumes,
    )


class _Checker:
    """Resolves and checks records kind by kind, collecting problems and rows."""

    def __init__(self, catalog: Catalog, problems: list[Problem]) -> None:
        self.catalog = catalog
        self.problems = problems
        self.batch = Batch()
        self.org_slugs: dict[int, str] = {}

    def problem(self, record: Record, name: str | None, message: str) -> None:
        self.problems.append(Problem(message, record.line, name))

    # --- names to keys ---

    def resolve(self, record: Record) -> dict[str, Any] | None:
        """The record's values with names resolved to keys, or None if a name is unknown."""
        values = dict(record.values)
        slug = values.pop("org")
        if slug is None:
            return None
        org_id = self.catalog.org_ids.get(slug)
        if org_id is None:
            self.problem(record, "org", f'no organization has the slug "{slug}"')
            return None
        self.org_slugs[org_id] = slug
        row: dict[str, Any] = {"org_id": org_id}
        is_known = True
        for name, value in values.items():
            column = COLUMN_OF_FIELD.get(name, name)
            if value is None:
                pass
            elif name == "app":
                value = self.catalog.app_ids.get((org_id, value))
                if value is None:
                    self.problem(record, name,
                                 f'organization "{slug}" has no app named "{values[name]}"')
                    is_known = False
            elif name == "region" and value not in self.catalog.regions:
                self.problem(record, name, f'"{value}" is not a region code')
                is_known = False
            elif name == "preset":
                is_known &= self._check_size(record, value, values["memory_mb"])
            row[column] = value
        return row if is_known else None

    def _check_size(self, record: Record, preset: str, memory_mb: int) -> bool:
        memory_range = self.catalog.memory_ranges.get(preset)
        if memory_range is None:
            self.problem(record, "preset", f'"{preset}" is not a preset')
            return False
        low, high = memory_range
        if memory_mb is not None and not low <= memory_mb <= high:
            self.problem(record, "memory_mb",
                         f"{memory_mb} MB does not fit {preset} ({low} to {high} MB)")
            return False
        return True

    # --- machines and volumes: declared here or stored already ---

    def declare(self, record: Record, row: dict[str, Any], rows: Rows,
                stored: dict[tuple, dict[str, Any]], noun: str, end: str) -> None:
        """Add a machine or volume declaration; a stored one may only gain its end time."""
        key = rows.key_of(row)
        before = stored.get(key)
        if before is not None:
            for column in rows.columns:
                if column == end:
                    if before[end] is not None and row[end] is None:
                        row[end] = before[end]  # a declaration never undoes an end
                    if before[end] is None or before[end] == row[end]:
                        continue
                elif before[column] == row[column]:
                    continue
                name = _field_of_column(column)
                stored_value = before[column]
                if column == "app_id":
                    stored_value = self.catalog.app_names.get((row["org_id"], stored_value))
                self.problem(record, name,
                             f"{noun} {key[1]} is stored with {name} {_shown(stored_value)}, "
                             f"not {_shown(record.values.get(name, row[column]))}")
                return
        rows.add(row, record.line, self.problems, f"{noun} {key[1]}")

    def known_machine(self, key: MachineKey) -> dict[str, Any] | None:
        return self.batch.machines.rows.get(key) or self.catalog.machines.get(key)

    def found_machine(self, key: MachineKey) -> dict[str, Any]:
        """A machine :meth:`require_machine` found, as this batch last declared it."""
        machine = self.known_machine(key)
        if machine is None:
            raise KeyError(f"machine {key[1]} was required before it was read")
        return machine

    def require_machine(self, record: Record, key: MachineKey) -> dict[str, Any] | None:
        machine = self.known_machine(key)
        if machine is None:
            self.problem(record, "machine_id",
                         f'organization "{self.org_slugs[key[0]]}" has no machine {key[1]} '
                         "(declare it with a machine record)")
        return machine

    def require_volume(self, record: Record, key: tuple[int, str]) -> dict[str, Any] | None:
        volume = self.batch.volumes.rows.get(key) or self.catalog.volumes.get(key)
        if volume is None:
            self.problem(record, "volume_id",
                         f'organization "{self.org_slugs[key[0]]}" has no volume {key[1]} '
                         "(declare it with a volume record)")
        return volume

    def require_open(self, record: Record, org_id: int, hour_at: datetime) -> bool:
        """Whether an hour of usage begins before its organization was closed (if it was)."""
        closed = self.catalog.closed_at.get(org_id)
        if closed is not None and hour_at >= closed:
            self.problem(record, "hour_at", f'{_shown(record.values["hour_at"])} is after '
                                            f'organization "{self.org_slugs[org_id]}" was '
                                            f"closed at {closed.isoformat()}")
            return False
        return True

    def require_in_lifetime(self, record: Record, name: str, start: datetime, end: datetime,
                            born: datetime, gone: datetime | None, noun: str,
                            gone_word: str = "destroyed") -> bool:
        """Whether an instant (start == end) or an hour [start, end) falls in a lifetime."""
        is_instant = start == end
        if (start < born) if is_instant else (end <= born):
            self.problem(record, name, f"{_shown(record.values[name])} is before {noun} was "
                                       f"created at {born.isoformat()}")
            return False
        if gone is not None and ((start > gone) if is_instant else (start >= gone)):
            self.problem(record, name, f"{_shown(record.values[name])} is after {noun} was "
                                       f"{gone_word} at {gone.isoformat()}")
            return False
        return True

    # --- kind by kind ---

    def check(self, records: list[Record]) -> Batch:
        by_kind: dict[str, list[tuple[Record, dict[str, Any]]]] = defaultdict(list)
        incomplete: list[tuple[Record, dict[str, Any]]] = []
        for record in records:
            row = self.resolve(record)
            if row is not None:
                (by_kind[record.kind] if record.is_valid else incomplete).append((record, row))
        for record, row in by_kind["machine"]:
            self.declare(record, row, self.batch.machines, self.catalog.machines,
                         "machine", "destroyed_at")
        self.check_events(by_kind["machine_event"])
        self.check_machine_usage(by_kind["machine_usage"])
        for record, row in by_kind["volume"]:
            if row["machine_id"] is not None:
                self.require_machine(record, (row["org_id"], row["machine_id"]))
            self.declare(record, row, self.batch.volumes, self.catalog.volumes,
                         "volume", "deleted_at")
        self.check_volume_usage(by_kind["volume_usage"])
        # records with a bad field get no further checks, but still their references checked
        for record, row in incomplete:
            if record.kind != "machine" and row.get("machine_id"):
                self.require_machine(record, (row["org_id"], row["machine_id"]))
            if record.kind == "volume_usage" and row.get("volume_id"):
                self.require_volume(record, (row["org_id"], row["volume_id"]))
        return self.batch

    def check_events(self, events: list[tuple[Record, dict[str, Any]]]) -> None:
        known = [(record, row, machine) for record, row in events
                 if (machine := self.require_machine(record, (row["org_id"],
                                                              row["machine_id"])))]
        # a destroy event gives its machine a destroyed_at if it has none yet
        mismatched = set()
        for record, row, _ in known:
            if row["kind"] != "destroy":
                continue
            key = (row["org_id"], row["machine_id"])
            machine = self.found_machine(key)
            if machine["destroyed_at"] is None:
                machine = {**machine, "destroyed_at": row["event_at"]}
                self.batch.machines.rows[key] = machine
                self.batch.machines.lines.setdefault(key, record.line)
            elif machine["destroyed_at"] != row["event_at"]:
                mismatched.add(record.line)
                self.problem(record, "event_at",
                             f"machine {key[1]} was destroyed at "
                             f"{machine['destroyed_at'].isoformat()}, not at "
                             f"{row['event_at'].isoformat()}")
        for record, row, _ in known:
            if record.line in mismatched:
                continue
            machine = self.found_machine((row["org_id"], row["machine_id"]))
            at = row["event_at"]
            if self.require_in_lifetime(record, "event_at", at, at, machine["created_at"],
                                        machine["destroyed_at"], f"machine {row['machine_id']}"):
                self.batch.events.add(row, record.line, self.problems,
                                      f"{row['kind']} event of machine {row['machine_id']}")

    def check_machine_usage(self, usage: list[tuple[Record, dict[str, Any]]]) -> None:
        for record, row in usage:
            machine = self.require_machine(record, (row["org_id"], row["machine_id"]))
            if machine is None or not self.require_open(record, row["org_id"], row["hour_at"]):
                continue
            if not self.require_in_lifetime(
                    record, "hour_at", row["hour_at"], row["hour_at"] + ONE_HOUR,
                    machine["created_at"], machine["destroyed_at"],
                    f"machine {row['machine_id']}"):
                continue
            self.batch.machine_usage.add(row, record.line, self.problems,
                                         f"hour and size of machine {row['machine_id']}")

    def check_volume_usage(self, usage: list[tuple[Record, dict[str, Any]]]) -> None:
        for record, row in usage:
            key = (row["org_id"], row["volume_id"])
            volume = self.require_volume(record, key)
            if volume is None or not self.require_open(record, row["org_id"], row["hour_at"]):
                continue
            if not self.require_in_lifetime(
                    record, "hour_at", row["hour_at"], row["hour_at"] + ONE_HOUR,
                    volume["created_at"], volume["deleted_at"], f"volume {key[1]}", "deleted"):
                continue
            self.batch.volume_usage.add(row, record.line, self.problems,
                                        f"hour of volume {key[1]}")


def check_records(connection: Connection, records: list[Record],
                  problems: list[Problem]) -> Batch:
    """Resolve and check ``records``; problems go into ``problems``, rows into the Batch."""
    if not records:
        return Batch()
    return _Checker(load_catalog(connection, records), problems).check(records)
