"""The usage feed: a folder's files imported in name order, each once by content, through a
bad file, a killed watcher and a second watcher (real PostgreSQL; watchers as real processes).

Every file is truthful: machines are declared, started before any runtime, used at their own
size, in November 2026.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from fleetspend import feed
from fleetspend.rollups import REFRESH_LOCK_KEY
from tests.db.usage_files import event, machine, make_tenant, usage

ROOT = Path(__file__).parent.parent.parent
ORG = "acme"
CREATED = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
STARTED = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (imported|duplicate|failed|retry) "
                      r"in \d+\.\d\d s: ")


def machine_ids(count: int) -> list[str]:
    return [f"{0xfeed0000000000 + number:014x}" for number in range(count)]


def declared(machines: list[str], org: str = ORG) -> list[dict]:
    """The machines, created at CREATED and started at STARTED (running ever since)."""
    return ([machine(org, "web", machine_id, CREATED) for machine_id in machines]
            + [event(org, machine_id, STARTED, "start") for machine_id in machines])


def hour_of_use(machines: list[str], hour: int, egress: str = "0.125",
                org: str = ORG) -> list[dict]:
    """Every machine running the whole of hour ``hour`` after STARTED, at its own size."""
    return [usage(org, machine_id, STARTED + timedelta(hours=hour), runtime_seconds=3600,
                  egress_internet_gb=egress) for machine_id in machines]


def deliver(inbox: Path, name: str, records: list[dict] | bytes) -> Path:
    """Put a file into the inbox as a producer should: written aside, then renamed in."""
    content = records if isinstance(records, bytes) else "".join(
        json.dumps(record) + "\n" for record in records).encode()
    aside = inbox / f".{name}.part"
    aside.write_bytes(content)
    return aside.rename(inbox / name)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.1)


def scalar(engine: Engine, statement: str, **params) -> object:
    with engine.connect() as connection:
        return connection.execute(text(statement), params).scalar_one()


def usage_rows(engine: Engine) -> int:
    return scalar(engine, "select count(*) from machine_usage")


def file_lines(lines: list[str]) -> dict[str, list[str]]:
    """The log's file lines by file name, each as its outcome."""
    by_file: dict[str, list[str]] = {}
    for line in lines:
        match = LOG_LINE.match(line)
        if match:
            by_file.setdefault(match.group(1), []).append(match.group(2))
    return by_file


def left_in(inbox: Path) -> list[str]:
    return [path.name for path in feed.pending_files(inbox)]


def feed_command(inbox: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "fleetspend", "ingest", str(inbox), *options]


def feed_environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}


def _starts(log: Path) -> int:
    return log.read_text().count(" watching ") if log.exists() else 0


@contextmanager
def watcher(database_url: str, inbox: Path, log: Path) -> Iterator[subprocess.Popen]:
    """`fleetspend ingest INBOX --watch` as its own process, its output going to ``log``;
    yielded once it watches."""
    starts = _starts(log)
    with log.open("a") as output:
        process = subprocess.Popen(
            feed_command(inbox, "--watch", "--interval", "0.1"), cwd=ROOT,
            env=feed_environment(database_url), stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _starts(log) > starts, "the watcher watches")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def acme(engine: Engine) -> int:
    return make_tenant(engine, ORG)


def test_a_folder_is_imported_in_name_order_with_rollups_and_one_utc_log_line_per_file(
        database_url, engine, acme, inbox):
    machines = machine_ids(3)
    # written in the opposite order: the usage names machines only the first file declares
    deliver(inbox, "0002-usage.jsonl", hour_of_use(machines, 0) + hour_of_use(machines, 1))
    deliver(inbox, "0001-machines.jsonl", declared(machines))

    run = subprocess.run(feed_command(inbox), cwd=ROOT, capture_output=True,
                         text=True, env=feed_environment(database_url), timeout=120)

    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [LOG_LINE.match(line).group(1, 2) for line in lines] == [
        ("0001-machines.jsonl", "imported"), ("0002-usage.jsonl", "imported")]
    assert "machines: 3 inserted" in lines[0]
    assert "machine-hours: 6 inserted, 0 corrected, 0 unchanged" in lines[1]
    assert lines[1].endswith("moved to done/0002-usage.jsonl")
    assert left_in(inbox) == []
    assert sorted(path.name for path in (inbox / "done").iterdir()) == [
        "0001-machines.jsonl", "0002-usage.jsonl"]
    assert usage_rows(engine) == 6
    # the rollups moved in the import's own transaction: a page sees the file's last hour
    assert scalar(engine, "select max(last_hour_at) from rollup_usage_daily") == (
        STARTED + timedelta(hours=1))


def test_files_arriving_while_the_feed_watches_are_each_imported_once(
        database_url, engine, acme, inbox, tmp_path):
    machines = machine_ids(2)
    log = tmp_path / "watcher.log"
    with watcher(database_url, inbox, log) as process:
        deliver(inbox, "0001-machines.jsonl", declared(machines))
        wait_until(lambda: (inbox / "done" / "0001-machines.jsonl").exists(), "0001 is done")
        for hour in range(3):
            deliver(inbox, f"{hour + 2:04d}-usage.jsonl", hour_of_use(machines, hour))
            wait_until(lambda rows=2 * (hour + 1): usage_rows(engine) == rows, f"hour {hour} is in")
        wait_until(lambda: left_in(inbox) == [], "the inbox is empty")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    lines = log.read_text().splitlines()
    assert file_lines(lines) == {name: ["imported"] for name in (
        "0001-machines.jsonl", "0002-usage.jsonl", "0003-usage.jsonl", "0004-usage.jsonl")}
    assert "(times are UTC)" in lines[0]
    assert "stopped watching" in lines[-1]
    assert scalar(engine, "select count(*) from ingested_files") == 4


def test_the_same_content_under_a_second_name_changes_nothing_and_goes_to_done_as_a_duplicate(
        engine, acme, inbox):
    machines = machine_ids(2)
    log: list[str] = []
    first = deliver(inbox, "0001-first.jsonl", declared(machines) + hour_of_use(machines, 0))
    content = first.read_bytes()
    feed.feed_folder(engine, inbox, log.append)
    # a correction of the hour, then the first file again under another name
    deliver(inbox, "0002-correction.jsonl", hour_of_use(machines, 0, egress="0.5"))
    feed.feed_folder(engine, inbox, log.append)
    deliver(inbox, "0003-again.jsonl", content)
    outcomes = feed.feed_folder(engine, inbox, log.append)

    assert [(outcome.file_name, outcome.outcome) for outcome in outcomes] == [
        ("0003-again.jsonl", "duplicate")]
    assert "same content as 0001-first.jsonl" in log[-1]
    assert (inbox / "done" / "0003-again.jsonl").read_bytes() == content
    assert scalar(engine, "select count(*) from ingested_files") == 2
    # the correction stands: the old file re-delivered did not take the hour back
    assert scalar(engine, "select sum(egress_internet_gb) from machine_usage") == 1


def test_a_bad_file_between_two_good_ones_goes_to_failed_with_its_report_and_the_feed_goes_on(
        engine, acme, inbox):
    machines = machine_ids(2)
    bad_hour = hour_of_use(machines, 1)
    bad_hour[1]["hour_at"] = "2026-11-02T01:00:00"  # no UTC offset
    deliver(inbox, "0001-good.jsonl", declared(machines) + hour_of_use(machines, 0))
    deliver(inbox, "0002-bad.jsonl", bad_hour)
    deliver(inbox, "0003-good.jsonl", hour_of_use(machines, 2))
    log: list[str] = []

    outcomes = feed.feed_folder(engine, inbox, log.append)

    assert [(outcome.file_name, outcome.outcome) for outcome in outcomes] == [
        ("0001-good.jsonl", "imported"), ("0002-bad.jsonl", "failed"),
        ("0003-good.jsonl", "imported")]
    assert log[1].endswith("1 problem, moved to failed/0002-bad.jsonl with "
                           "0002-bad.jsonl.errors.txt beside it; going on with the next file")
    report = (inbox / "failed" / "0002-bad.jsonl.errors.txt").read_text()
    assert report.startswith("0002-bad.jsonl was rejected, nothing was imported (1 problem):\n"
                             "0002-bad.jsonl line 2, field hour_at: ")
    assert (inbox / "failed" / "0002-bad.jsonl").exists()
    assert left_in(inbox) == []
    assert usage_rows(engine) == 4  # hours 0 and 2, nothing of hour 1


def test_a_failed_file_dropped_back_is_imported_once_its_accounts_file_came(engine, acme, inbox):
    # the usage of an organization that does not exist yet fails; its bytes are not recorded
    machines = machine_ids(1)
    deliver(inbox, "0001-beta.jsonl", declared(machines, org="beta")
            + hour_of_use(machines, 0, org="beta"))
    log: list[str] = []
    assert [outcome.outcome for outcome in feed.feed_folder(engine, inbox, log.append)] == [
        "failed"]
    # what it lacked comes through the feed too, as an accounts file sorting before it
    deliver(inbox, "0000-beta-accounts.jsonl", [
        {"record": "organization", "org": "beta", "name": "Beta",
         "created_at": "2026-10-01T00:00:00Z"},
        {"record": "team", "org": "beta", "team": "core"},
        {"record": "app", "org": "beta", "app": "web", "team": "core"}])

    (inbox / "failed" / "0001-beta.jsonl").rename(inbox / "0001-beta.jsonl")
    outcomes = feed.feed_folder(engine, inbox, log.append)

    assert [(outcome.file_name, outcome.outcome) for outcome in outcomes] == [
        ("0000-beta-accounts.jsonl", "imported"), ("0001-beta.jsonl", "imported")]
    assert "organizations: 1 inserted" in outcomes[0].detail
    assert usage_rows(engine) == 1


def _waiting_on_an_advisory_lock(url: str, database: str) -> bool:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(
            "select exists (select from pg_stat_activity where datname = %s"
            " and wait_event_type = 'Lock' and wait_event = 'advisory')", (database,)
        ).fetchone()[0]


def _other_sessions(url: str, database: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(
            "select count(*) from pg_stat_activity where datname = %s"
            " and pid <> pg_backend_pid()", (database,)).fetchone()[0]


def test_a_watcher_killed_mid_file_leaves_nothing_and_its_restart_imports_the_file_once(
        database_url, engine, acme, inbox, tmp_path):
    machines = machine_ids(20)
    url = make_url(database_url).set(drivername="postgresql")
    libpq_url, database = url.render_as_string(hide_password=False), url.database
    log = tmp_path / "watcher.log"
    # hold the rollup lock so the import stops after writing its rows, before it commits
    with psycopg.connect(libpq_url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (REFRESH_LOCK_KEY,))
        with watcher(database_url, inbox, log) as process:
            deliver(inbox, "0001-day.jsonl", declared(machines) + [
                row for hour in range(24) for row in hour_of_use(machines, hour)])
            wait_until(lambda: _waiting_on_an_advisory_lock(libpq_url, database),
                       "the import is written and waiting to fold its rollups")
            process.send_signal(signal.SIGKILL)
            process.wait()
        holder.execute("select pg_advisory_unlock(%s)", (REFRESH_LOCK_KEY,))
        # the killed watcher's sessions end without committing (the holder's is left)
        wait_until(lambda: _other_sessions(libpq_url, database) == 1, "its sessions are gone")

    assert left_in(inbox) == ["0001-day.jsonl"]
    assert usage_rows(engine) == 0
    assert scalar(engine, "select count(*) from ingested_files") == 0
    assert file_lines(log.read_text().splitlines()) == {}

    with watcher(database_url, inbox, log) as process:
        wait_until(lambda: left_in(inbox) == [], "the restarted watcher took the file")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    assert file_lines(log.read_text().splitlines()) == {"0001-day.jsonl": ["imported"]}
    assert "machine-hours: 480 inserted, 0 corrected, 0 unchanged" in log.read_text()
    assert usage_rows(engine) == 480
    assert scalar(engine, "select count(*) from ingested_files") == 1


def test_two_watchers_on_one_folder_never_import_a_file_twice_and_keep_name_order(
        database_url, engine, acme, inbox, tmp_path):
    machines = machine_ids(5)
    hours = {hour: hour_of_use(machines, hour) for hour in range(6)}
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with watcher(database_url, inbox, logs[0]) as first, \
            watcher(database_url, inbox, logs[1]) as second:
        # dropped in a burst: each usage file needs the one before it to have declared the
        # machines, and two carry the content of earlier files under new names
        deliver(inbox, "0000-machines.jsonl", declared(machines))
        for hour, records in hours.items():
            deliver(inbox, f"{hour + 1:04d}-usage.jsonl", records)
            if hour in (2, 4):
                deliver(inbox, f"{hour + 1:04d}-resent.jsonl", hours[hour - 1])
        wait_until(lambda: left_in(inbox) == [], "both watchers emptied the inbox")
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0

    outcomes: dict[str, list[str]] = {}
    for log in logs:
        for name, seen in file_lines(log.read_text().splitlines()).items():
            outcomes.setdefault(name, []).extend(seen)
    assert outcomes == {"0000-machines.jsonl": ["imported"],
                        **{f"{hour + 1:04d}-usage.jsonl": ["imported"] for hour in hours},
                        "0003-resent.jsonl": ["duplicate"], "0005-resent.jsonl": ["duplicate"]}
    assert scalar(engine, "select count(*) from ingested_files") == 7
    assert usage_rows(engine) == 5 * 6
