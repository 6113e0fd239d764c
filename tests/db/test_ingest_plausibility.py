"""Usage that cannot have happened is rejected with its line and field; usage at the edges of
the documented tolerance is accepted. Every file goes through ``ingest_file``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from fleetspend.ingest import IngestError, ingest_file
from tests.db.test_ingest import checksums, make_tenant, write_records

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
MACHINE = "0a1b2c3d4e5f60"
VOLUME = "vol_0a1b2c3d4e5f6g7h"


def machine(created_at: str = "2026-11-02T08:00:00Z", rootfs_gb: int = 1) -> dict:
    return {"record": "machine", "org": "acme", "app": "web", "machine_id": MACHINE,
            "region": "iad", "preset": "shared-cpu-1x", "memory_mb": 256,
            "rootfs_gb": rootfs_gb, "created_at": created_at}


def event(at: str, kind: str, preset: str | None = None, memory_mb: int | None = None
          ) -> dict:
    record = {"record": "machine_event", "org": "acme", "machine_id": MACHINE,
              "event_at": at, "kind": kind}
    if preset is not None:
        record |= {"preset": preset, "memory_mb": memory_mb}
    return record


def usage(hour_at: str, runtime: int, stopped: str = "0", preset: str = "shared-cpu-1x",
          memory_mb: int = 256) -> dict:
    return {"record": "machine_usage", "org": "acme", "machine_id": MACHINE,
            "hour_at": hour_at, "preset": preset, "memory_mb": memory_mb,
            "runtime_seconds": runtime, "stopped_rootfs_gb_seconds": stopped,
            "egress_internet_gb": "0", "egress_private_gb": "0", "dedicated_ipv4_seconds": 0}


def volume(size_gb: int = 3) -> dict:
    return {"record": "volume", "org": "acme", "app": "web", "volume_id": VOLUME,
            "region": "iad", "size_gb": size_gb, "created_at": "2026-11-02T08:00:00Z"}


def volume_usage(hour_at: str, gb_hours: str) -> dict:
    return {"record": "volume_usage", "org": "acme", "volume_id": VOLUME, "hour_at": hour_at,
            "gb_hours": gb_hours}


@pytest.fixture
def import_records(engine, tmp_path):
    """Import records as one JSON Lines file (line n is records[n - 1]) at NOW."""
    make_tenant(engine)
    files = iter(range(1000))

    def run(records: list[dict]):
        path = write_records(tmp_path / f"usage{next(files)}.jsonl", records)
        return ingest_file(engine, path, now=NOW)

    return run


def rejected(import_records, records: list[dict]) -> list[tuple[int, str, str]]:
    with pytest.raises(IngestError) as raised:
        import_records(records)
    return [(problem.line, problem.field, problem.message) for problem in raised.value.problems]


def test_runtime_of_a_machine_never_started_is_rejected(import_records):
    problems = rejected(import_records, [machine(), usage("2026-11-02T09:00:00Z", 60)])
    assert problems == [(2, "runtime_seconds",
                         f"60 seconds of runtime, but machine {MACHINE} was never started (no "
                         "start event is stored or in the file); 60 seconds too many")]


def test_runtime_in_an_hour_the_machine_did_not_run_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(), event("2026-11-02T08:10:00Z", "start"), event("2026-11-02T08:50:00Z", "stop"),
        usage("2026-11-02T10:00:00Z", 1200)])
    assert [(line, field) for line, field, _ in problems] == [(4, "runtime_seconds")]
    assert "did not run in the hour 2026-11-02T10:00:00+00:00" in problems[0][2]


def test_a_whole_hour_of_runtime_for_a_machine_that_ran_one_second_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(), event("2026-11-02T09:00:00Z", "start"), event("2026-11-02T09:00:01Z", "stop"),
        usage("2026-11-02T09:00:00Z", 3600, stopped="0")])
    assert problems == [(4, "runtime_seconds",
                         f"3600 seconds of runtime, but machine {MACHINE} ran as shared-cpu-1x "
                         "with 256 MB for at most 6 seconds of the hour 2026-11-02T09:00:00+00:00 "
                         "(its runs, each edge widened by 5 seconds); 3594 seconds too many")]


def test_runtime_is_checked_against_runs_stored_by_an_earlier_file(import_records):
    import_records([machine(), event("2026-11-02T09:00:00Z", "start"),
                    event("2026-11-02T09:00:01Z", "stop")])
    problems = rejected(import_records, [usage("2026-11-02T09:00:00Z", 3600)])
    assert [(line, field) for line, field, _ in problems] == [(1, "runtime_seconds")]
    import_records([usage("2026-11-02T09:00:00Z", 1, stopped="3599")])


@pytest.mark.parametrize("preset, memory_mb, field", [
    ("shared-cpu-2x", 512, "preset"), ("shared-cpu-1x", 512, "memory_mb")])
def test_runtime_at_a_size_the_machine_did_not_run_at_is_rejected(import_records, preset,
                                                                     memory_mb, field):
    problems = rejected(import_records, [
        machine(), event("2026-11-02T08:00:00Z", "start"),
        usage("2026-11-02T09:00:00Z", 3600, preset=preset, memory_mb=memory_mb)])
    assert problems == [(3, field, f"machine {MACHINE} ran as shared-cpu-1x with 256 MB in the "
                                   f"hour 2026-11-02T09:00:00+00:00, not as {preset} with "
                                   f"{memory_mb} MB")]


def test_a_stopped_hour_at_a_size_the_machine_never_had_then_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(), event("2026-11-02T12:00:00Z", "resize", "shared-cpu-2x", 512),
        usage("2026-11-02T09:00:00Z", 0, stopped="3600", preset="shared-cpu-2x",
              memory_mb=512),
        usage("2026-11-02T13:00:00Z", 0, stopped="3600")])
    assert problems == [
        (3, "preset", f"machine {MACHINE} was shared-cpu-1x with 256 MB in the hour "
                      "2026-11-02T09:00:00+00:00, not shared-cpu-2x with 512 MB"),
        (4, "preset", f"machine {MACHINE} was shared-cpu-2x with 512 MB in the hour "
                      "2026-11-02T13:00:00+00:00, not shared-cpu-1x with 256 MB")]


def test_stopped_rootfs_beyond_the_root_filesystem_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(rootfs_gb=1), usage("2026-11-02T09:00:00Z", 0, stopped="1000000000000000")])
    assert problems == [(2, "stopped_rootfs_gb_seconds",
                         "1000000000000000 GB-seconds is more than the 3600 GB-seconds a 1 GB "
                         "root filesystem accrues in an hour, by 999999999996400")]


def test_runtime_plus_stopped_time_over_the_hour_across_rows_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(rootfs_gb=2), event("2026-11-02T08:00:00Z", "start"),
        event("2026-11-02T09:30:00Z", "resize", "shared-cpu-2x", 512),
        usage("2026-11-02T09:00:00Z", 1800, stopped="2000"),
        usage("2026-11-02T09:00:00Z", 1800, preset="shared-cpu-2x", memory_mb=512)])
    assert problems == [(5, "stopped_rootfs_gb_seconds",
                         f"machine {MACHINE} runs 3600 seconds and is stopped 1000 seconds "
                         "(stopped_rootfs_gb_seconds / rootfs_gb 2) in the hour "
                         "2026-11-02T09:00:00+00:00 across lines 4, 5: 4600 seconds, 1000 more "
                         "than the 3600 seconds it existed in that hour (5 more are tolerated)")]


def test_stopped_time_before_the_machine_existed_is_rejected(import_records):
    problems = rejected(import_records, [
        machine(created_at="2026-11-02T09:50:00Z"), usage("2026-11-02T09:00:00Z", 0, "3600")])
    assert [(line, field) for line, field, _ in problems] == [(2, "stopped_rootfs_gb_seconds")]
    assert "3000 more than the 600 seconds it existed in that hour" in problems[0][2]


def test_a_machine_hour_after_the_current_one_is_rejected(import_records):
    problems = rejected(import_records, [machine(), usage("2027-01-01T00:00:00Z", 0, "3600")])
    assert problems == [
        (2, "hour_at", "2027-01-01T00:00:00+00:00 is 639 hours after the current hour "
                       "2026-12-05T09:00:00+00:00; usage is only accepted for hours that have "
                       "begun")]


def test_a_volume_hour_after_the_current_one_is_rejected(import_records):
    problems = rejected(import_records, [volume(), volume_usage("2026-12-05T10:00:00Z", "3")])
    assert problems == [
        (2, "hour_at", "2026-12-05T10:00:00+00:00 is 1 hour after the current hour "
                       "2026-12-05T09:00:00+00:00; usage is only accepted for hours that have "
                       "begun")]


def test_volume_gb_hours_over_its_size_are_rejected(import_records):
    problems = rejected(import_records, [
        volume(size_gb=3), volume_usage("2026-11-02T09:00:00Z", "3.000001")])
    assert problems == [(2, "gb_hours", "3.000001 GB-hours is more than a 3 GB volume accrues "
                                        "in an hour, by 0.000001")]


def test_a_rejected_file_writes_nothing(engine, import_records):
    before = checksums(engine)
    rejected(import_records, [machine(), event("2026-11-02T09:00:00Z", "start"),
                              usage("2026-11-02T08:00:00Z", 60)])
    assert checksums(engine) == before


# --- accepted at the edges of the tolerance -------------------------------------------------

@pytest.mark.parametrize("started, runtime, is_accepted", [
    ("09:00:05", 3600, True), ("09:00:06", 3600, False), ("09:00:06", 3599, True)])
def test_runtime_may_exceed_a_run_by_the_tolerance_at_its_edge(import_records, started,
                                                               runtime, is_accepted):
    records = [machine(), event(f"2026-11-02T{started}Z", "start"),
               usage("2026-11-02T09:00:00Z", runtime)]
    if is_accepted:
        import_records(records)
    else:
        assert [(line, field) for line, field, _ in rejected(import_records, records)] == [
            (3, "runtime_seconds")]


@pytest.mark.parametrize("runtime, is_accepted", [(5, True), (6, False)])
def test_runtime_just_after_a_stop_is_accepted_within_the_tolerance(import_records, runtime,
                                                                    is_accepted):
    records = [machine(), event("2026-11-02T08:00:00Z", "start"),
               event("2026-11-02T10:00:00Z", "stop"),
               usage("2026-11-02T10:00:00Z", runtime, stopped=str(3600 - runtime))]
    if is_accepted:
        import_records(records)
    else:
        assert [(line, field) for line, field, _ in rejected(import_records, records)] == [
            (4, "runtime_seconds")]


@pytest.mark.parametrize("stopped, is_accepted", [("5", True), ("5.000001", False)])
def test_runtime_plus_stopped_time_may_exceed_the_hour_by_the_tolerance(import_records,
                                                                         stopped, is_accepted):
    records = [machine(), event("2026-11-02T08:00:00Z", "start"),
               usage("2026-11-02T09:00:00Z", 3600, stopped=stopped)]
    if is_accepted:
        import_records(records)
    else:
        assert [(line, field) for line, field, _ in rejected(import_records, records)] == [
            (3, "stopped_rootfs_gb_seconds")]


def test_a_stopped_hour_may_carry_any_size_the_machine_had_in_it(import_records):
    result = import_records([
        machine(), event("2026-11-02T09:00:03Z", "resize", "shared-cpu-2x", 512),
        event("2026-11-02T11:20:00Z", "resize", "shared-cpu-4x", 1024),
        usage("2026-11-02T08:00:00Z", 0, "3600", "shared-cpu-2x", 512),  # resized 3 s later
        usage("2026-11-02T09:00:00Z", 0, "3600", "shared-cpu-1x", 256),  # its first 3 s
        usage("2026-11-02T11:00:00Z", 0, "1200", "shared-cpu-2x", 512),
        usage("2026-11-02T11:00:00Z", 0, "2400", "shared-cpu-4x", 1024),
        usage("2026-11-02T12:00:00Z", 0, "3600", "shared-cpu-4x", 1024)])
    assert result.outcomes["machine-hours"].inserted == 4  # five rows, 11:00 split in two


def test_the_hour_in_progress_is_accepted(engine, import_records):
    import_records([machine(), volume(), event("2026-12-05T09:00:00Z", "start"),
                    usage("2026-12-05T09:00:00Z", 1800), volume_usage("2026-12-05T09:00:00Z",
                                                                      "3")])
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from machine_usage")).scalar() == 1


def test_a_machine_running_across_hours_and_a_resize_is_accepted(import_records):
    result = import_records([
        machine(created_at="2026-11-02T07:50:00Z"), event("2026-11-02T07:55:00Z", "start"),
        event("2026-11-02T09:30:00Z", "resize", "shared-cpu-2x", 512),
        usage("2026-11-02T07:00:00Z", 300, "300"),
        usage("2026-11-02T08:00:00Z", 3600),
        usage("2026-11-02T09:00:00Z", 1800),
        usage("2026-11-02T09:00:00Z", 1800, preset="shared-cpu-2x", memory_mb=512),
        usage("2026-11-02T10:00:00Z", 3600, preset="shared-cpu-2x", memory_mb=512)])
    assert result.outcomes["machine-hours"].inserted == 4  # five rows, 09:00 split in two
