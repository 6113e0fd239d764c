"""Invoice truth under a real feed (DESIGN.md invariants 6-8), through `fleetspend ingest` files:
one machine-hour is one fact, late usage is billed once on a later invoice, lines round once,
a billing run never sees half an import, and sealed records cannot be truncated away."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fleetspend import cli, db
from fleetspend.billing.invoices import draft_month, finalize_month
from fleetspend.billing.rating import stage_month
from fleetspend.billing.verify import verify_month
from fleetspend.reads.exports import focus_export
from tests.db.usage_files import event, ingest, machine, make_tenant, usage, volume, volume_hours

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)
AFTER_OCTOBER = datetime(2026, 11, 2, tzinfo=UTC)
MACHINE = "0a1b2c3d4e5f60"


@pytest.fixture
def acme(engine: Engine) -> int:
    return make_tenant(engine, "acme", "web")


@pytest.fixture(autouse=True)
def cli_database(database_url: str, monkeypatch) -> Iterator[None]:
    """`fleetspend` commands run in this test talk to its database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REPLICA_URLS", "")
    db.primary_engine.cache_clear()
    yield
    db.primary_engine().dispose()
    db.primary_engine.cache_clear()


def _lines(engine: Engine, org_id: int, month: date) -> list:
    with engine.connect() as connection:
        return connection.execute(text(
            "select invoice_lines.* from invoice_lines join invoices using (org_id, invoice_id)"
            " where org_id = :org_id and period_start_date = :month order by line_no"),
            {"org_id": org_id, "month": month}).all()


def _rerated_cents(engine: Engine, org_id: int, month: date) -> dict[str, int]:
    """The month's usage rated afresh (the cents of each line), as drafting would rate it."""
    with engine.begin() as connection:
        stage_month(connection, month, [org_id])
        rows = connection.execute(text(
            "select description, amount_cents from rated_lines")).all()
    return {description: cents for description, cents in rows}


def _billed_cents_for(engine: Engine, org_id: int, month: date) -> dict[str, int]:
    """What every invoice bills for the month's lines: its own lines plus adjustments to it."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select invoice_lines.description, invoice_lines.amount_cents,"
            " invoice_lines.adjusts_period_date"
            " from invoice_lines join invoices using (org_id, invoice_id)"
            " where org_id = :org_id and ((period_start_date = :month"
            "   and adjusts_period_date is null) or adjusts_period_date = :month)"),
            {"org_id": org_id, "month": month}).all()
    billed: dict[str, int] = {}
    for description, cents, adjusts in rows:
        # an adjustment's description names the line it adjusts after the colon
        key = description.split(": ", 1)[1] if adjusts else description
        billed[key] = billed.get(key, 0) + cents
    return {key: cents for key, cents in billed.items() if cents}


def _running_machine(hours: int) -> list[dict]:
    """acme's machine, started at the first of October, with ``hours`` full hours of usage."""
    return [machine("acme", "web", MACHINE, OCT_1),
            event("acme", MACHINE, OCT_1, "start"),
            *[usage("acme", MACHINE, OCT_1 + timedelta(hours=hour), runtime_seconds=3600)
              for hour in range(hours)]]


def test_a_size_corrected_in_a_later_file_bills_the_hour_once(engine, acme, tmp_path):
    ingest(engine, tmp_path, _running_machine(2))
    # the platform learns late that the machine was resized at 01:00 and re-sends that hour
    # at its new size: the hour is one fact, replaced, not a second row beside the first
    result = ingest(engine, tmp_path, [
        event("acme", MACHINE, OCT_1 + timedelta(hours=1), "resize",
              preset="shared-cpu-2x", memory_mb=512),
        usage("acme", MACHINE, OCT_1 + timedelta(hours=1), runtime_seconds=3600,
              preset="shared-cpu-2x", memory_mb=512)])
    hours = result.outcomes["machine-hours"]
    assert (hours.inserted, hours.changed, hours.unchanged) == (0, 1, 0)
    assert "machine-hours: 0 inserted, 1 corrected, 0 unchanged" in result.describe()

    draft_month(engine, OCTOBER, "acme")
    runtime = {(line.preset_code, line.memory_mb): line.consumed_quantity
               for line in _lines(engine, acme, OCTOBER) if line.product == "machine_runtime"}
    assert runtime == {("shared-cpu-1x", 256): 3600, ("shared-cpu-2x", 512): 3600}


def test_a_resent_hour_split_by_a_resize_replaces_both_of_its_rows(engine, acme, tmp_path):
    hour = OCT_1 + timedelta(hours=1)
    ingest(engine, tmp_path, [*_running_machine(1),
                              event("acme", MACHINE, hour + timedelta(minutes=30), "resize",
                                    preset="shared-cpu-2x", memory_mb=512),
                              usage("acme", MACHINE, hour, runtime_seconds=1800),
                              usage("acme", MACHINE, hour, runtime_seconds=1800,
                                    preset="shared-cpu-2x", memory_mb=512)])
    # re-sent with the second row only slightly different: both rows of the hour are replaced
    ingest(engine, tmp_path, [usage("acme", MACHINE, hour, runtime_seconds=1795),
                              usage("acme", MACHINE, hour, runtime_seconds=1800,
                                    preset="shared-cpu-2x", memory_mb=512)])
    with engine.connect() as connection:
        stored = connection.execute(text(
            "select preset_code, runtime_seconds from machine_usage where hour_at = :hour"
            " order by preset_code"), {"hour": hour}).all()
    assert stored == [("shared-cpu-1x", 1795), ("shared-cpu-2x", 1800)]


def test_late_usage_before_finalize_is_simply_on_the_months_own_invoice(engine, acme, tmp_path):
    ingest(engine, tmp_path, _running_machine(10))
    draft_month(engine, OCTOBER, "acme")
    result = ingest(engine, tmp_path, [usage("acme", MACHINE, OCT_1 + timedelta(hours=10),
                                             runtime_seconds=3600)])
    assert result.late_usage == []
    finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)
    draft_month(engine, NOVEMBER, "acme")
    assert not any(line.adjusts_period_date for line in _lines(engine, acme, NOVEMBER))
    assert _billed_cents_for(engine, acme, OCTOBER) == _rerated_cents(engine, acme, OCTOBER)


def test_late_usage_after_finalize_is_billed_once_on_the_next_invoice(engine, acme, tmp_path):
    ingest(engine, tmp_path, _running_machine(100))
    [october] = finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER).finalized
    sealed = _lines(engine, acme, OCTOBER)
    draft_month(engine, NOVEMBER, "acme")

    # more October hours arrive, and one hour is corrected downwards
    late = ingest(engine, tmp_path, [
        *[usage("acme", MACHINE, OCT_1 + timedelta(hours=hour), runtime_seconds=3600)
          for hour in range(100, 150)],
        usage("acme", MACHINE, OCT_1, runtime_seconds=1200)])
    [note] = late.late_usage
    assert (note.period_start, note.invoice_number, note.hours) == (OCTOBER, october, 51)
    assert note.carried_by == f"FS-202611-{acme:06d}"
    assert f"51 hours of acme's 2026-10, already invoiced on {october}" in late.describe()

    # the sealed invoice is untouched; verify sees the difference, open until carried
    assert _lines(engine, acme, OCTOBER) == sealed
    assert any(difference.is_open for difference in verify_month(engine, OCTOBER, "acme"))
    draft_month(engine, NOVEMBER, "acme")
    [adjustment] = [line for line in _lines(engine, acme, NOVEMBER) if line.adjusts_period_date]
    assert adjustment.adjusts_period_date == OCTOBER
    assert adjustment.consumed_quantity == 50 * 3600 - 2400
    assert adjustment.description.startswith(f"Adjustment to October 2026 ({october}): ")
    differences = verify_month(engine, OCTOBER, "acme")
    assert differences and not any(difference.is_open for difference in differences)
    verified = CliRunner().invoke(cli.main, ["invoice", "verify", "--month", "2026-10"])
    assert verified.exit_code == 0, verified.output
    assert "0 open difference(s)" in verified.output

    # sealing November carries the late usage for good; a later draft carries nothing again
    finalize_month(engine, NOVEMBER, "acme", now=datetime(2026, 12, 2, tzinfo=UTC))
    draft_month(engine, date(2026, 12, 1), "acme")
    assert not _lines(engine, acme, date(2026, 12, 1))
    assert _billed_cents_for(engine, acme, OCTOBER) == _rerated_cents(engine, acme, OCTOBER)


def test_over_billed_late_corrections_become_negative_adjustments(engine, acme, tmp_path):
    ingest(engine, tmp_path, _running_machine(48))
    finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)
    ingest(engine, tmp_path, [usage("acme", MACHINE, OCT_1 + timedelta(hours=hour))
                              for hour in range(24, 48)])
    draft_month(engine, NOVEMBER, "acme")
    [adjustment] = [line for line in _lines(engine, acme, NOVEMBER) if line.adjusts_period_date]
    assert adjustment.consumed_quantity == -24 * 3600 and adjustment.amount_cents < 0
    with engine.connect() as connection:
        allocated = connection.execute(text(
            "select sum(amount_cents) from invoice_allocations where org_id = :org_id"
            " and line_no = :line_no and invoice_id = (select invoice_id from invoices"
            " where org_id = :org_id and period_start_date = :month)"),
            {"org_id": acme, "line_no": adjustment.line_no, "month": NOVEMBER}).scalar_one()
    assert allocated == adjustment.amount_cents
    assert _billed_cents_for(engine, acme, OCTOBER) == _rerated_cents(engine, acme, OCTOBER)


def test_usage_written_around_the_importer_is_an_open_difference(engine, acme, tmp_path):
    ingest(engine, tmp_path, _running_machine(3))
    finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)
    with engine.begin() as connection:
        connection.execute(text(
            "update machine_usage set runtime_seconds = 60 where org_id = :org_id"),
            {"org_id": acme})
    verified = CliRunner().invoke(cli.main, ["invoice", "verify", "--month", "2026-10"])
    assert verified.exit_code == 1
    assert "Open (not billed anywhere yet):" in verified.output


def test_exact_half_cents_round_up_once_per_line(engine, acme, tmp_path):
    """A 1 GB volume for 168 hours is $0.035 and a stopped 1 GB root filesystem for 24 hours
    $0.005: 4 cents and 1 cent, where rounding each hour first billed a cent less."""
    ingest(engine, tmp_path, [
        machine("acme", "web", MACHINE, OCT_1),
        *[usage("acme", MACHINE, OCT_1 + timedelta(hours=hour),
                stopped_rootfs_gb_seconds="3600") for hour in range(24)],
        volume("acme", "web", "vol_0000000000000001", OCT_1),
        *volume_hours("acme", "vol_0000000000000001", OCT_1, 168)])
    draft_month(engine, OCTOBER, "acme")
    cents = {line.product: (line.amount_precise, line.amount_cents)
             for line in _lines(engine, acme, OCTOBER)}
    assert cents["volume"][1] == 4 and cents["volume"][0] * 1000 == 35
    assert cents["stopped_rootfs"][1] == 1 and cents["stopped_rootfs"][0] * 1000 == 5


def _finalized_acme(engine: Engine, tmp_path) -> None:
    ingest(engine, tmp_path, _running_machine(5))
    finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)


@pytest.mark.parametrize("table", ["invoices", "invoice_lines", "invoice_allocations",
                                   "organizations"])
def test_truncating_finalized_invoices_is_refused_by_the_database(engine, acme, tmp_path, table):
    _finalized_acme(engine, tmp_path)
    with pytest.raises(DBAPIError, match="cannot be truncated"), engine.begin() as connection:
        connection.execute(text(f"truncate {table} cascade"))  # a constant table name
    assert _lines(engine, acme, OCTOBER)


def test_audit_events_can_be_neither_truncated_nor_deleted(engine, acme):
    with engine.begin() as connection:
        connection.execute(text(
            "insert into audit_events (org_id, actor_kind, action) values (:org_id, 'system',"
            " 'test')"), {"org_id": acme})
    for statement in ("truncate audit_events", "delete from audit_events"):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))


def test_seed_refuses_a_database_holding_data_it_did_not_create(engine, acme, tmp_path):
    _finalized_acme(engine, tmp_path)
    refused = CliRunner().invoke(cli.main, ["seed", "--scale", "small"])
    assert refused.exit_code != 0
    assert "did not create" in refused.output and "--discard-existing-data" in refused.output
    assert _lines(engine, acme, OCTOBER)

    replaced = CliRunner().invoke(cli.main, ["seed", "--scale", "small",
                                             "--discard-existing-data"])
    assert replaced.exit_code == 0, replaced.output
    with engine.connect() as connection:
        assert connection.execute(text(
            "select count(*) from machines where machine_id = :machine_id"),
            {"machine_id": MACHINE}).scalar_one() == 0
    # its own data it replaces without being told
    again = CliRunner().invoke(cli.main, ["seed", "--scale", "small"])
    assert again.exit_code == 0, again.output


def test_a_billing_run_never_seals_half_of_an_import(engine, acme, tmp_path, database_url):
    """The test holds a lock that stalls the billing run between its machine and volume
    passes, as an attacker could; an import started meanwhile must wait for the run, never
    commit between its statements, and its October usage is carried by the next invoice."""
    ingest(engine, tmp_path, [*_running_machine(24),
                              volume("acme", "web", "vol_0000000000000001", OCT_1),
                              *volume_hours("acme", "vol_0000000000000001", OCT_1, 24)])
    before = _rerated_cents(engine, acme, OCTOBER)
    blocker = psycopg.connect(database_url.replace("+psycopg", ""))
    blocker.execute("lock table volume_usage in access exclusive mode")
    outcome: dict[str, object] = {}

    def bill() -> None:
        outcome["run"] = finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)

    def late_import() -> None:
        outcome["import"] = ingest(engine, tmp_path, [
            *[usage("acme", MACHINE, OCT_1 + timedelta(hours=hour), runtime_seconds=3600)
              for hour in range(24, 30)],
            *volume_hours("acme", "vol_0000000000000001", OCT_1 + timedelta(hours=24), 6)])
        outcome["import_done_at"] = time.monotonic()

    billing = threading.Thread(target=bill)
    billing.start()
    time.sleep(1.0)  # the run is now waiting for the test's lock on volume_usage
    importing = threading.Thread(target=late_import)
    importing.start()
    importing.join(timeout=2.0)
    assert importing.is_alive(), "the import committed in the middle of a billing run"
    released_at = time.monotonic()
    blocker.commit()
    blocker.close()
    billing.join(timeout=60)
    importing.join(timeout=60)
    assert outcome["import_done_at"] > released_at

    # the sealed invoice is the usage as it stood before the import, machine and volume alike
    billed = {line.description: line.amount_cents for line in _lines(engine, acme, OCTOBER)}
    assert billed == before
    [note] = outcome["import"].late_usage
    assert note.period_start == OCTOBER
    draft_month(engine, NOVEMBER, "acme")
    assert _billed_cents_for(engine, acme, OCTOBER) == _rerated_cents(engine, acme, OCTOBER)


def test_the_focus_export_shows_adjustments_as_corrections_of_their_month(engine, acme,
                                                                           tmp_path):
    ingest(engine, tmp_path, _running_machine(24))
    finalize_month(engine, OCTOBER, "acme", now=AFTER_OCTOBER)
    ingest(engine, tmp_path, [usage("acme", MACHINE, OCT_1 + timedelta(hours=hour),
                                    runtime_seconds=3600) for hour in range(24, 30)])
    [november] = finalize_month(engine, NOVEMBER, "acme",
                                now=datetime(2026, 12, 2, tzinfo=UTC)).finalized
    with engine.connect() as connection:
        frame = focus_export(connection, acme, NOVEMBER, date(2026, 11, 30))
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where invoice_number = :number"),
            {"number": november}).scalar_one()
    [correction] = frame[frame["ChargeClass"] == "Correction"].to_dict("records")
    assert correction["ChargePeriodStart"] == "2026-10-01T00:00:00Z"
    assert correction["BillingPeriodStart"] == "2026-11-01T00:00:00Z"
    assert correction["InvoiceId"] == november
    assert frame["BilledCost"].sum() * 100 == subtotal
