"""Importing files end to end: round trips, idempotency, corrections, runs, the CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from fleetspend.ingest import IngestError, ingest_file
from tests.db.usage_files import make_tenant

DATA = Path(__file__).parent.parent / "data" / "ingest"
VALID_FILES = [DATA / "valid.csv", DATA / "valid.jsonl"]
CHECKED_TABLES = ("machines", "machine_events", "machine_runs", "machine_usage", "volumes",
                  "volume_usage")
CSV_COLUMNS = ("record", "org", "app", "machine_id", "volume_id", "region", "preset",
               "memory_mb", "rootfs_gb", "size_gb", "created_at", "destroyed_at", "deleted_at",
               "event_at", "kind", "hour_at", "runtime_seconds", "stopped_rootfs_gb_seconds",
               "egress_internet_gb", "egress_private_gb", "dedicated_ipv4_seconds", "gb_hours")


def checksums(engine: Engine) -> dict[str, str]:
    """A digest of every row of the tables an import writes, and the partitions that exist."""
    with engine.connect() as connection:
        sums = {table: connection.execute(text(
            f"select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)),"
            f" '') from {table} as t"  # table names from the constant list above
        )).scalar_one() for table in CHECKED_TABLES}
        sums["partitions"] = ",".join(connection.execute(text(
            "select relname from pg_class where relispartition order by relname")).scalars())
    return sums


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()
            if line.strip()]


def write_records(path: Path, records: list[dict]) -> Path:
    """Write records as JSON Lines or CSV (by suffix), one record per line."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(record, default=str) + "\n" for record in records))
    else:
        with path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for record in records:
                writer.writerow({key: "" if value is None else value
                                 for key, value in record.items()})
    return path


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@pytest.fixture
def acme(engine: Engine) -> int:
    return make_tenant(engine)


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda path: path.suffix)
def test_valid_file_round_trips_exactly(engine, acme, path):
    ingest_file(engine, path)
    records = read_jsonl(DATA / "valid.jsonl")  # the CSV holds the same records
    by_kind = {kind: [r for r in records if r["record"] == kind]
               for kind in ("machine", "machine_event", "machine_usage", "volume",
                            "volume_usage")}
    with engine.connect() as connection:
        machines = connection.execute(text(
            "select machine_id, apps.name as app, region_code, preset_code, memory_mb,"
            " rootfs_gb, machines.created_at, destroyed_at"
            " from machines join apps using (org_id, app_id) order by machine_id")).all()
        events = connection.execute(text(
            "select machine_id, event_at, kind, preset_code, memory_mb from machine_events"
            " order by machine_id, event_at")).all()
        usage = connection.execute(text(
            "select machine_id, hour_at, preset_code, memory_mb, runtime_seconds,"
            " stopped_rootfs_gb_seconds, egress_internet_gb, egress_private_gb,"
            " dedicated_ipv4_seconds from machine_usage"
            " order by machine_id, hour_at, memory_mb")).all()
        volumes = connection.execute(text(
            "select volume_id, region_code, size_gb, machine_id, created_at, deleted_at"
            " from volumes")).all()
        volume_usage = connection.execute(text(
            "select volume_id, hour_at, gb_hours from volume_usage order by hour_at")).all()

    assert machines == [
        (r["machine_id"], r["app"], r["region"], r["preset"], r["memory_mb"], r["rootfs_gb"],
         instant(r["created_at"]),
         instant(r["destroyed_at"]) if r.get("destroyed_at") else None)
        for r in by_kind["machine"]]
    assert events == [
        (r["machine_id"], instant(r["event_at"]), r["kind"], r.get("preset"),
         r.get("memory_mb")) for r in by_kind["machine_event"]]
    assert usage == [
        (r["machine_id"], instant(r["hour_at"]), r["preset"], r["memory_mb"],
         r["runtime_seconds"], Decimal(r["stopped_rootfs_gb_seconds"]),
         Decimal(r["egress_internet_gb"]), Decimal(r["egress_private_gb"]),
         r["dedicated_ipv4_seconds"]) for r in by_kind["machine_usage"]]
    assert all(isinstance(value, Decimal) for row in usage for value in row[5:8])
    assert volumes == [
        (r["volume_id"], r["region"], r["size_gb"], r.get("machine_id"),
         instant(r["created_at"]), None) for r in by_kind["volume"]]
    assert volume_usage == [
        (r["volume_id"], instant(r["hour_at"]), Decimal(r["gb_hours"]))
        for r in by_kind["volume_usage"]]


def test_csv_and_jsonl_give_the_same_rows(engine, acme):
    ingest_file(engine, DATA / "valid.jsonl")
    from_jsonl = checksums(engine)
    with engine.begin() as connection:
        for table in reversed(CHECKED_TABLES):
            connection.execute(text(f"delete from {table}"))  # constant table names
    ingest_file(engine, DATA / "valid.csv")
    assert checksums(engine) == from_jsonl


def test_first_import_reports_inserts_and_touched_hours(engine, acme):
    result = ingest_file(engine, DATA / "valid.jsonl")
    assert {label: (o.inserted, o.changed, o.unchanged)
            for label, o in result.outcomes.items()} == {
        "machines": (2, 0, 0), "machine events": (5, 0, 0), "machine-hours": (4, 0, 0),
        "volumes": (1, 0, 0), "volume-hours": (2, 0, 0)}
    assert result.touched_hours == {acme: (datetime(2026, 10, 31, 22, tzinfo=UTC),
                                           datetime(2026, 11, 1, 3, tzinfo=UTC))}
    assert len(result.rebuilt_machines) == 2
    # five usage rows, two of them one machine-hour (a resize inside it): four facts
    assert "machine-hours: 4 inserted, 0 corrected, 0 unchanged" in result.describe()


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda path: path.suffix)
def test_importing_twice_changes_nothing(engine, acme, path):
    ingest_file(engine, path)
    before = checksums(engine)
    result = ingest_file(engine, path)
    assert checksums(engine) == before
    assert all(o.inserted == 0 and o.changed == 0 and o.unchanged > 0
               for o in result.outcomes.values())
    assert result.touched_hours == {}
    assert result.rebuilt_machines == []
    assert "0 inserted" in result.describe() and "5 unchanged" in result.describe()
    assert "machine-hours: 0 inserted, 0 corrected, 4 unchanged" in result.describe()


def test_a_resent_hour_with_new_values_is_a_correction(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    records = read_jsonl(DATA / "valid.jsonl")
    corrected = next(r for r in records if r["record"] == "machine_usage"
                     and r["hour_at"] == "2026-11-01T00:00:00Z")
    corrected["egress_internet_gb"] = "1.500001"
    corrected["runtime_seconds"] = 1799
    result = ingest_file(engine, write_records(tmp_path / "fix.jsonl", records))

    usage = result.outcomes["machine-hours"]
    assert (usage.inserted, usage.changed, usage.unchanged) == (0, 1, 3)
    assert "1 corrected" in result.describe()
    assert result.touched_hours == {acme: (datetime(2026, 11, 1, 0, tzinfo=UTC),
                                           datetime(2026, 11, 1, 1, tzinfo=UTC))}
    with engine.connect() as connection:
        stored = connection.execute(text(
            "select runtime_seconds, egress_internet_gb from machine_usage"
            " where hour_at = '2026-11-01T00:00:00Z'")).one()
    assert stored == (1799, Decimal("1.500001"))


def test_events_in_a_later_file_extend_the_runs(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    later = [
        {"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
         "event_at": "2026-11-01T05:00:00Z", "kind": "start"},
        {"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
         "event_at": "2026-11-01T07:00:00Z", "kind": "destroy"},
    ]
    result = ingest_file(engine, write_records(tmp_path / "later.jsonl", later))
    assert result.rebuilt_machines == [(acme, "0a1b2c3d4e5f60")]
    machines = result.outcomes["machines"]
    assert (machines.inserted, machines.changed) == (0, 1)  # the destroy set destroyed_at
    with engine.connect() as connection:
        runs = connection.execute(text(
            "select started_at, ended_at, preset_code from machine_runs"
            " where machine_id = '0a1b2c3d4e5f60' order by started_at")).all()
        destroyed_at = connection.execute(text(
            "select destroyed_at from machines where machine_id = '0a1b2c3d4e5f60'")).scalar()
    assert runs[-1] == (instant("2026-11-01T05:00:00Z"), instant("2026-11-01T07:00:00Z"),
                        "shared-cpu-2x")
    assert destroyed_at == instant("2026-11-01T07:00:00Z")


def test_a_later_file_cannot_start_a_running_machine(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    lines = [
        {"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
         "event_at": "2026-11-01T05:00:00Z", "kind": "start"},
        {"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
         "event_at": "2026-11-01T06:00:00Z", "kind": "start"},
    ]
    before = checksums(engine)
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, write_records(tmp_path / "twice.jsonl", lines))
    assert [(p.line, p.field) for p in raised.value.problems] == [(2, "kind")]
    assert "twice.jsonl line 2, field kind: start at 2026-11-01T06:00:00+00:00 starts a " \
           "machine already running" in str(raised.value)
    assert checksums(engine) == before


def test_a_machine_is_destroyed_once(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    destroys = [
        {"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
         "event_at": f"2026-11-01T0{hour}:00:00Z", "kind": "destroy"} for hour in (5, 6)]
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, write_records(tmp_path / "destroys.jsonl", destroys))
    assert [(p.line, p.field) for p in raised.value.problems] == [(2, "event_at")]
    assert "machine 0a1b2c3d4e5f60 was destroyed at 2026-11-01T05:00:00+00:00, not at " \
           "2026-11-01T06:00:00+00:00" in str(raised.value)


def test_a_stored_machine_declared_differently_is_rejected(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    records = read_jsonl(DATA / "valid.jsonl")[:1]
    records[0]["region"] = "fra"
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, write_records(tmp_path / "moved.jsonl", records))
    assert "moved.jsonl line 1, field region: machine 0a1b2c3d4e5f60 is stored with region " \
           '"iad", not "fra"' in str(raised.value)


def test_a_stored_machine_declared_in_another_app_names_both_apps(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    with engine.begin() as connection:
        connection.execute(text(
            "insert into apps (org_id, team_id, name) select org_id, team_id, 'api' from apps"))
    records = read_jsonl(DATA / "valid.jsonl")[:1]
    records[0]["app"] = "api"
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, write_records(tmp_path / "app.jsonl", records))
    assert 'field app: machine 0a1b2c3d4e5f60 is stored with app "web", not "api"' \
        in str(raised.value)


def test_database_constraint_violations_are_reported_and_rolled_back(engine, acme):
    # a rule only the database knows: the import must surface it and write nothing
    with engine.begin() as connection:
        connection.execute(text(
            "alter table machine_usage add constraint egress_cap check (egress_internet_gb < 10)"))
    before = checksums(engine)
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, DATA / "valid.jsonl")
    assert "the database rejected the file while writing it" in str(raised.value)
    assert "egress_cap" in str(raised.value)
    assert checksums(engine) == before


def test_problems_are_capped_in_the_message(engine, acme, tmp_path):
    bad = [{"record": "machine", "org": "acme", "app": "web", "machine_id": f"{number:014x}",
            "region": "iad", "preset": "shared-cpu-1x", "memory_mb": 256, "rootfs_gb": 1,
            "created_at": f"2026-11-01T00:{number:02d}:00"}
           for number in range(60)]
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, write_records(tmp_path / "naive.jsonl", bad))
    message = str(raised.value)
    assert len(raised.value.problems) == 60
    assert "(60 problems)" in message
    assert "naive.jsonl line 50, field created_at" in message
    assert "naive.jsonl line 51," not in message
    assert message.endswith("... and 10 more")


def test_unsupported_suffix_is_rejected(engine, tmp_path):
    path = tmp_path / "usage.xlsx"
    path.write_text("record\n")
    with pytest.raises(IngestError, match=r'usage.xlsx: has suffix ".xlsx"; fleetspend '
                                          r"imports .csv and .jsonl files"):
        ingest_file(engine, path)


def test_cli_exits_non_zero_with_the_problems(database_url, engine, acme, tmp_path):
    bad = write_records(tmp_path / "usage.csv", [{
        "record": "machine_usage", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
        "hour_at": "2026-11-01T00:00:00Z", "preset": "shared-cpu-1x", "memory_mb": 256,
        "runtime_seconds": 4000, "stopped_rootfs_gb_seconds": "0", "egress_internet_gb": "0",
        "egress_private_gb": "0", "dedicated_ipv4_seconds": 0}])
    environment = {**os.environ, "DATABASE_URL": database_url, "REPLICA_URLS": ""}
    command = [sys.executable, "-m", "fleetspend", "ingest"]
    rejected = subprocess.run([*command, str(bad)], env=environment, capture_output=True,
                              text=True, timeout=120)
    assert rejected.returncode != 0
    assert "usage.csv line 2, field runtime_seconds: 4000 is more than the 3600 seconds in " \
           "an hour" in rejected.stderr
    assert "usage.csv line 2, field machine_id: organization \"acme\" has no machine" \
           in rejected.stderr

    accepted = subprocess.run([*command, str(DATA / "valid.csv")], env=environment,
                              capture_output=True, text=True, timeout=120)
    assert accepted.returncode == 0, accepted.stderr
    assert "machine events: 5 inserted, 0 unchanged" in accepted.stdout


@pytest.mark.parametrize("name, content", [
    ("empty.csv", ""), ("header-only.csv", ",".join(CSV_COLUMNS) + "\n"), ("empty.jsonl", ""),
], ids=["empty CSV", "header-only CSV", "empty JSON Lines"])
def test_files_without_records_import_nothing_and_succeed_alike(database_url, engine,
                                                                 tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    before = checksums(engine)
    environment = {**os.environ, "DATABASE_URL": database_url, "REPLICA_URLS": ""}
    completed = subprocess.run([sys.executable, "-m", "fleetspend", "ingest", str(path)],
                               env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{name}: no records, nothing to import\n"
    assert checksums(engine) == before


def test_reimporting_seeded_machines_changes_nothing(seeded_engine, tmp_path):
    """The seed's machines, events and usage, exported in the import format, are accepted
    as they are and change nothing: the format and its rules fit realistic data."""
    with seeded_engine.connect() as connection:
        machines = connection.execute(text("""
            select 'machine' as record, organizations.slug as org, apps.name as app,
                   machine_id, region_code as region, preset_code as preset, memory_mb,
                   rootfs_gb, machines.created_at, destroyed_at
            from machines
            join organizations using (org_id)
            join apps using (org_id, app_id)
            where exists (select from machine_events
                          where machine_events.org_id = machines.org_id
                            and machine_events.machine_id = machines.machine_id
                            and kind = 'resize')
               or destroyed_at is not null
            order by org_id, machine_id
            limit 40""")).mappings().all()
        keys = {"org_ids": [], "ids": []}
        for machine in machines:
            org_id = connection.execute(text(
                "select org_id from organizations where slug = :slug"),
                {"slug": machine["org"]}).scalar_one()
            keys["org_ids"].append(org_id)
            keys["ids"].append(machine["machine_id"])
        wanted = ("join unnest(cast(:org_ids as bigint[]), cast(:ids as text[]))"
                  " as wanted (org_id, machine_id) using (org_id, machine_id)"
                  " join organizations using (org_id)")
        events = connection.execute(text(
            "select 'machine_event' as record, slug as org, machine_id, event_at, kind,"
            " preset_code as preset, machine_events.memory_mb from machine_events " + wanted
        ), keys).mappings().all()
        usage = connection.execute(text(
            "select 'machine_usage' as record, slug as org, machine_id, hour_at,"
            " preset_code as preset, memory_mb, runtime_seconds, stopped_rootfs_gb_seconds,"
            " egress_internet_gb, egress_private_gb, dedicated_ipv4_seconds"
            " from machine_usage " + wanted
        ), keys).mappings().all()
    assert machines and events and usage
    records = [{key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in row.items() if value is not None}
               for row in [*machines, *events, *usage]]
    before = checksums(seeded_engine)

    result = ingest_file(seeded_engine, write_records(tmp_path / "seeded.jsonl", records))

    assert checksums(seeded_engine) == before
    assert {label: outcome.unchanged for label, outcome in result.outcomes.items()} == {
        "machines": len(machines), "machine events": len(events),
        "machine-hours": len({(row["org"], row["machine_id"], row["hour_at"]) for row in usage})}


def test_the_documented_examples_import_and_agree(engine):
    """docs/examples holds the same records as CSV and JSON Lines; both are valid."""
    make_tenant(engine, "pebble-works", "ember-queue")
    examples = Path(__file__).parent.parent.parent / "docs" / "examples"
    first = ingest_file(engine, examples / "usage-sample.csv")
    assert first.outcomes["machine-hours"].inserted == 3
    second = ingest_file(engine, examples / "usage-sample.jsonl")
    assert all(o.inserted == 0 and o.changed == 0 for o in second.outcomes.values())
    assert "machine runs rebuilt for 1 machine\n" in first.describe() + "\n"


def test_line_order_does_not_matter(engine, acme, tmp_path):
    ingest_file(engine, DATA / "valid.jsonl")
    in_order = checksums(engine)
    with engine.begin() as connection:
        for table in reversed(CHECKED_TABLES):
            connection.execute(text(f"delete from {table}"))  # constant table names
    reversed_file = write_records(tmp_path / "reversed.jsonl",
                                  list(reversed(read_jsonl(DATA / "valid.jsonl"))))
    ingest_file(engine, reversed_file)
    assert checksums(engine) == in_order
