"""Loading a generated seed: one transaction that empties the tenant tables and COPYs rows in.

Small tables (organizations, people, teams, apps) go through psycopg's ``write_row``; the big
ones are encoded by :mod:`.copytext` from numpy arrays, chunk by chunk, in primary key order
(machines, events, runs and volumes as COPY text, the hourly usage as binary COPY) and
streamed through a queued writer, so that encoding the next chunk overlaps the server storing
the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, Engine

from fleetspend import bulk, db, models, rollups
from fleetspend.partitions import ensure_month_partitions
from fleetspend.seed import copytext, dataset
from fleetspend.seed.billing import bill_history
from fleetspend.seed.dataset import SeedRefusedError
from fleetspend.seed.fleet import (
    EVENT_KIND_NAMES,
    RESIZE,
    Catalog,
    OrgFleet,
    accounts_created_at,
    build_fleets,
    usage_chunks,
    volume_usage,
)
from fleetspend.seed.plan import ScalePlan, plan_for
from fleetspend.sqlfiles import SqlFolder
from fleetspend.usage_lock import lock_usage

Progress = Callable[[float, str], None]

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")
# the switch that lets this transaction truncate sealed invoices and audit events (0009)
DISCARD_SEALED_DATA = "fleetspend.discard_sealed_data"
# Tables whose rows the seed owns. TRUNCATE ... CASCADE also empties whatever references them
# (invoices, allocations, grants, rollups); the reference data stays.
SEEDED_TABLES = ("organizations", "users", "staff_users", *models.TENANT_TABLES)
# The tables the seed writes, in load order.
LOADED_TABLES = ("organizations", "users", "memberships", "staff_users", "teams", "apps",
                 "machines", "machine_events", "machine_runs", "volumes", "machine_usage",
                 "volume_usage")
# The scales whose months the seed also invoices (the tests' small scale stays uninvoiced), and
# the share of the progress bar the load takes then.
BILLED_SCALES = ("demo", "large")
LOAD_SHARE_WHEN_BILLED = 0.7

USAGE_COLUMNS = ("org_id", "machine_id", "hour_at", "preset_code", "memory_mb",
                 "runtime_seconds", "stopped_rootfs_gb_seconds", "egress_internet_gb",
                 "egress_private_gb", "dedicated_ipv4_seconds")


@dataclass
class SeedSummary:
    """What a seed run loaded and how long each phase took."""

    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def describe(self) -> str:
        counts = ", ".join(f"{count:,} {table}" for table, count in self.rows.items() if count)
        phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in self.seconds.items())
        return (f"seeded scale {self.scale} with seed {self.seed}: {self.total_rows:,} rows "
                f"({counts})\n"
                f"time: {phases}")


def _read_catalog(connection: Connection) -> Catalog:
    regions = connection.execute(_STATEMENTS.sql("catalog_regions")).all()
    presets = connection.execute(_STATEMENTS.sql("catalog_presets")).all()
    limits = {kind: (low, high) for kind, low, high in connection.execute(
        _STATEMENTS.sql("catalog_memory_limits")).all()}
    return Catalog.build([tuple(r) for r in regions], [tuple(p) for p in presets], limits)


def _truncate(connection: Connection, *, discard_existing_data: bool) -> None:
    """Empty the tenant tables, refusing data the seed did not create unless told to discard
    it (throw-away databases only). The database refuses to truncate sealed invoices, credit
    notes and audit events unless this transaction turns its switch on (migration 0009)."""
    organizations, sealed = dataset.foreign_data(connection)
    if (organizations or sealed) and not discard_existing_data:
        raise SeedRefusedError(
            f"this database holds {organizations} organization(s) and {sealed} finalized "
            "invoice(s) that fleetspend seed did not create; seeding replaces every "
            "tenant's data, so nothing was changed. Seed an empty database instead, or pass "
            "--discard-existing-data if this one is a throw-away test database.")
    db.set_local(connection, {DISCARD_SEALED_DATA: "on"})
    # the names come from our own table list, quoted by psycopg
    bulk.run_composed(connection, sql.SQL("truncate table {} restart identity cascade").format(
        sql.SQL(", ").join(map(sql.Identifier, SEEDED_TABLES))))
    db.set_local(connection, {DISCARD_SEALED_DATA: "off"})


# The big tables: for the load their foreign keys, and the hourly usage tables' primary keys
# and rollup-note triggers, are set aside (see fleetspend/bulk.py) and added back after
# it; the rollups are rebuilt from every loaded row in the same transaction, so nothing the
# triggers would note is lost.
BULK_TABLES = ("machine_events", "machine_runs", *models.PARTITIONED_TABLES)


def _analyze_the_rest(connection: Connection) -> None:
    """Statistics for every table the load and the rollups did not analyze (accounts, apps,
    reference data): without them the first page plans guess a handful of rows and loop."""
    analyzed = {"machines", "volumes", *BULK_TABLES, *rollups.REBUILT_TABLES}
    bulk.analyze_tables(connection, [table.name for table in models.metadata.sorted_tables
                                     if table.name not in analyzed])


class _Loader:
    def __init__(self, cursor: psycopg.Cursor, plan: ScalePlan, catalog: Catalog,
                 summary: SeedSummary) -> None:
        self.cursor = cursor
        self.plan = plan
        self.catalog = catalog
        self.summary = summary
        self.clock = copytext.Timestamps(plan.window_start, plan.hours // 24 + 1)
        self.regions = copytext.Lookup.of(catalog.region_codes)
        self.presets = copytext.Lookup.of([code for code, _ in catalog.sizes])
        self.memory = np.array([memory for _, memory in catalog.sizes], dtype=np.int64)

    def _count(self, table: str, rows: int) -> None:
        self.summary.rows[table] = self.summary.rows.get(table, 0) + rows

    def copy_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """COPY a few Python rows (accounts, teams, apps)."""
        statement = f"copy {table} ({', '.join(columns)}) from stdin"
        with self.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        self._count(table, len(rows))

    def copy_encoded(self, table: str, columns: tuple[str, ...], chunks, *,
                     binary: bool = False,
                     after_chunk: Callable[[int], None] | None = None) -> None:
        """COPY chunks of encoded rows; ``chunks`` yields (row count, bytes)."""
        statement = f"copy {table} ({', '.join(columns)}) from stdin"
        if binary:
            statement += " (format binary)"
        with self.cursor.copy(statement, writer=QueuedLibpqWriter(self.cursor)) as copy:
            if binary:
                copy.write(copytext.BINARY_HEADER)
            for rows, data in chunks:
                copy.write(data)
                self._count(table, rows)
                if after_chunk:
                    after_chunk(rows)
            if binary:
                copy.write(copytext.BINARY_TRAILER)

    # --- accounts -------------------------------------------------------------------------

    def accounts(self, fleets: list[OrgFleet]) -> None:
        plan = self.plan
        self.copy_rows("organizations", ("org_id", "slug", "name", "created_at"), [
            (f.org_id, f.plan.slug, f.plan.name, accounts_created_at(f.org_id)) for f in fleets
        ])
        users, memberships, user_id = [], [], 0
        for fleet in fleets:
            for person in fleet.people:
                user_id += 1
                joined = accounts_created_at(fleet.org_id + user_id % 30)
                users.append((user_id, person.email, person.name, joined))
                memberships.append((fleet.org_id, user_id, person.role, joined))
        self.copy_rows("users", ("user_id", "email", "name", "created_at"), users)
        self.copy_rows("memberships", ("org_id", "user_id", "role", "created_at"), memberships)
        self.copy_rows("staff_users", ("staff_user_id", "email", "name", "created_at"), [
            (n, f"support{n}@fleetspend.example", f"Support Agent {n}", accounts_created_at(0))
            for n in range(1, plan.staff + 1)
        ])
        self.copy_rows("teams", ("org_id", "team_id", "name", "created_at"), [
            (f.org_id, int(team_id), name, accounts_created_at(f.org_id + 1))
            for f in fleets for team_id, name in zip(f.team_ids, f.team_names, strict=True)
        ])
        self.copy_rows("apps", ("org_id", "app_id", "team_id", "name", "created_at"), [
            (f.org_id, int(app_id), int(f.team_ids[team]), name,
             accounts_created_at(f.org_id + 2 + index % 20))
            for f in fleets
            for index, (app_id, team, name) in enumerate(
                zip(f.app_ids, f.app_team, f.app_names, strict=True))
        ])

    # --- machines, events, runs, volumes ----------------------------------------------------

    def _org(self, fleet: OrgFleet, rows: int) -> copytext.Field:
        return copytext.constant(str(fleet.org_id), rows)

    def _machine_ids(self, fleet: OrgFleet, machine: np.ndarray) -> copytext.Field:
        return copytext.hex_ids(fleet.machine_ids[machine], 14)

    def machines(self, fleets: list[OrgFleet]) -> None:
        length = self.plan.seconds

        def chunks():
            for f in fleets:
                n = f.machine_count
                every = np.arange(n)
                yield n, copytext.encode([
                    self._org(f, n), self._machine_ids(f, every),
                    copytext.integers(f.app_ids[f.machine_app]),
                    self.regions.field(f.machine_region),
                    self.presets.field(f.machine_size),
                    copytext.integers(self.memory[f.machine_size]),
                    copytext.integers(f.machine_rootfs),
                    self.clock.field(f.machine_created),
                    copytext.nullable(self.clock.field(np.minimum(f.machine_end, length)),
                                      ~f.machine_destroyed),
                ])

        self.copy_encoded("machines", ("org_id", "machine_id", "app_id", "region_code",
                                       "preset_code", "memory_mb", "rootfs_gb", "created_at",
                                       "destroyed_at"), chunks())

    def events(self, fleets: list[OrgFleet]) -> None:
        kinds = copytext.Lookup.of([EVENT_KIND_NAMES.get(k, "") for k in range(RESIZE + 2)])

        def chunks():
            for f in fleets:
                n = len(f.event_at)
                is_resize = f.event_kind == RESIZE
                size = np.where(is_resize, f.event_size, 0)
                yield n, copytext.encode([
                    self._org(f, n), self._machine_ids(f, f.event_machine),
                    self.clock.field(f.event_at), kinds.field(f.event_kind),
                    copytext.nullable(self.presets.field(size), ~is_resize),
                    copytext.nullable(copytext.integers(self.memory[size]), ~is_resize),
                ])

        self.copy_encoded("machine_events", ("org_id", "machine_id", "event_at", "kind",
                                             "preset_code", "memory_mb"), chunks())

    def runs(self, fleets: list[OrgFleet]) -> None:
        length = self.plan.seconds

        def chunks():
            for f in fleets:
                running = np.flatnonzero(f.segment_running)
                machine = f.segment_machine[running]
                ended = f.segment_end[running]
                still_running = (ended == length) & ~f.machine_destroyed[machine]
                size = f.segment_size[running]
                yield len(running), copytext.encode([
                    self._org(f, len(running)), self._machine_ids(f, machine),
                    self.clock.field(f.segment_start[running]),
                    copytext.nullable(self.clock.field(ended), still_running),
                    self.presets.field(size), copytext.integers(self.memory[size]),
                ])

        self.copy_encoded("machine_runs", ("org_id", "machine_id", "started_at", "ended_at",
                                           "preset_code", "memory_mb"), chunks())

    def volumes(self, fleets: list[OrgFleet]) -> None:
        def chunks():
            for f in fleets:
                n = len(f.volume_ids)
                if not n:
                    continue
                yield n, copytext.encode([
                    self._org(f, n), copytext.Lookup.of(f.volume_ids).field(np.arange(n)),
                    copytext.integers(f.app_ids[f.volume_app]),
                    self.regions.field(f.volume_region),
                    copytext.integers(f.volume_size_gb),
                    self._machine_ids(f, f.volume_machine),
                    self.clock.field(f.volume_created),
                    copytext.nullable(self.clock.field(f.volume_end), ~f.volume_deleted),
                ])

        self.copy_encoded("volumes", ("org_id", "volume_id", "app_id", "region_code", "size_gb",
                                      "machine_id", "created_at", "deleted_at"), chunks())

    # --- hourly usage -----------------------------------------------------------------------

    def machine_usage(self, fleets: list[OrgFleet], rng: np.random.Generator,
                      after_chunk: Callable[[int], None]) -> None:
        origin = self.plan.window_start
        codes = [code.encode() for code, _ in self.catalog.sizes]
        code_length = np.array([len(code) for code in codes])

        def rows(f: OrgFleet, usage, part: np.ndarray, width: int) -> bytes:
            size = usage.size[part]
            return copytext.pack_binary(len(part), [
                (">i8", f.org_id),
                ("S14", copytext.fixed_text(
                    copytext.hex_ids(f.machine_ids[usage.machine[part]], 14).data)),
                (">i8", copytext.pg_microseconds(origin, usage.hour[part] * 3600)),
                (f"S{width}", np.array(codes, dtype=f"S{width}")[size]),
                (">i4", self.memory[size]),
                (">i4", usage.runtime_seconds[part]),
                ((">i2", 9), copytext.numeric_words(
                    usage.stopped_rootfs_gb_seconds[part] * 1_000_000)),
                ((">i2", 9), copytext.numeric_words(usage.egress_internet_micro_gb[part])),
                ((">i2", 9), copytext.numeric_words(usage.egress_private_micro_gb[part])),
                (">i4", usage.dedicated_ipv4_seconds[part]),
            ])

        def chunks():
            for f in fleets:
                for usage in usage_chunks(f, rng, self.plan.machines_per_chunk):
                    # binary text fields have fixed widths here, so rows are packed in one
                    # group per preset code length (each group still in primary key order)
                    length = code_length[usage.size]
                    parts = [rows(f, usage, np.flatnonzero(length == width), int(width))
                             for width in np.unique(length)]
                    yield len(usage.machine), b"".join(parts)

        self.copy_encoded("machine_usage", USAGE_COLUMNS, chunks(), binary=True,
                          after_chunk=after_chunk)

    def volume_usage(self, fleets: list[OrgFleet]) -> None:
        origin = self.plan.window_start

        def chunks():
            for f in fleets:
                if not len(f.volume_ids):
                    continue
                volume, hour, micro = volume_usage(f)
                yield len(volume), copytext.pack_binary(len(volume), [
                    (">i8", f.org_id),
                    ("S20", np.array(f.volume_ids, dtype="S20")[volume]),
                    (">i8", copytext.pg_microseconds(origin, hour * 3600)),
                    ((">i2", 9), copytext.numeric_words(micro)),
                ])

        self.copy_encoded("volume_usage", ("org_id", "volume_id", "hour_at", "gb_hours"),
                          chunks(), binary=True)


def generate(engine: Engine, *, scale: str, seed: int, progress: Progress | None = None,
             bill: bool = True, discard_existing_data: bool = False) -> SeedSummary:
    """Replace every tenant's data with the deterministic seed ``seed`` at ``scale``.

    One transaction: either the whole seed is there afterwards or nothing changed. Then, for
    the demo and large scales unless ``bill`` is false, :func:`.billing.bill_history`
    invoices the seeded months in transactions of its own. Data the seed did not create
    (organizations, finalized invoices) is refused with :class:`SeedRefusedError` unless
    ``discard_existing_data`` (throw-away databases only).
    """
    plan = plan_for(scale)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    bills = bill and scale in BILLED_SCALES
    overall = progress or (lambda fraction, message: None)
    loaded_share = LOAD_SHARE_WHEN_BILLED if bills else 1.0

    def report(fraction: float, message: str) -> None:
        overall(loaded_share * fraction, message)

    summary = SeedSummary(scale=scale, seed=seed)
    started = time.perf_counter()
    phase_started = started

    def phase(name: str) -> None:
        nonlocal phase_started
        now = time.perf_counter()
        summary.seconds[name] = now - phase_started
        phase_started = now

    with engine.begin() as connection:
        report(0.0, "generating machines and events")
        catalog = _read_catalog(connection)
        fleets = build_fleets(plan, catalog, seed)
        phase("generate")
        report(0.05, "emptying tenant tables")
        lock_usage(connection)
        _truncate(connection, discard_existing_data=discard_existing_data)
        ensure_month_partitions(connection, plan.window_start, plan.window_end)
        raw = bulk.driver_connection(connection)
        set_aside = bulk.set_aside(connection, foreign_keys=BULK_TABLES,
                                    primary_keys=models.PARTITIONED_TABLES,
                                    transition_triggers=models.PARTITIONED_TABLES)
        with raw.cursor() as cursor:
            loader = _Loader(cursor, plan, catalog, summary)
            report(0.07, "loading accounts, machines and events")
            loader.accounts(fleets)
            loader.machines(fleets)
            loader.events(fleets)
            loader.runs(fleets)
            loader.volumes(fleets)
            phase("machines and events")
            expected = max(1, sum(int((f.machine_end - f.machine_created).sum()) // 3600
                                  for f in fleets))
            done = 0

            def after_chunk(rows: int) -> None:
                nonlocal done
                done += rows
                report(0.15 + 0.5 * min(1.0, done / expected),
                       f"{done:,} machine-hours loaded")

            usage_rng = np.random.Generator(np.random.PCG64([seed, 1]))
            loader.machine_usage(fleets, usage_rng, after_chunk)
            phase("machine usage")
            report(0.65, "loading volume usage")
            loader.volume_usage(fleets)
            phase("volume usage")
        report(0.68, "building primary keys, checking foreign keys")
        bulk.add_back(connection, set_aside, analyze=("machines", "volumes", *BULK_TABLES))
        phase("keys")
        connection.execute(_STATEMENTS.sql("advance_identities"))
        report(0.72, "folding the seeded days into the rollups")
        # every seeded day into the rollups, in this transaction; about half the seed's time
        rollups.rebuild_in(connection, lambda fraction: report(
            0.72 + 0.26 * fraction, "folding the seeded days into the rollups"))
        phase("rollups")
        _analyze_the_rest(connection)
        dataset.record(connection, scale=scale, seed=seed)
        report(0.98, "committing")
    phase("commit")
    report(1.0, f"{summary.total_rows:,} rows loaded")
    if bills:
        bill_history(engine, plan, lambda fraction, message: overall(
            loaded_share + (1 - loaded_share) * fraction, message))
        # the invoices it sealed are the seed's own too
        with engine.begin() as connection:
            dataset.record(connection, scale=scale, seed=seed)
        phase("invoices")
    summary.seconds["total"] = time.perf_counter() - started
    return summary
