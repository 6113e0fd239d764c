"""Invariant 5: a finalized invoice never changes, enforced by the database; corrections are
credit notes, which cannot over-credit, even when issued concurrently."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from fleetspend.billing.credit_notes import CreditNoteError, issue_credit_note
from fleetspend.billing.invoices import draft_month, finalize_month
from tests.db.billing_builders import add_hours, machine_id, make_machine, make_org, make_staff

SEPTEMBER = date(2026, 9, 1)


@pytest.fixture
def finalized(engine):
    """A finalized September invoice with two machines; returns (engine, org_id, number)."""
    org_id, app_id = make_org(engine, "sealed")
    for number, region in ((1, "iad"), (2, "fra")):
        make_machine(engine, org_id, app_id, machine_id(number), region, "shared-cpu-2x", 1024)
        add_hours(engine, org_id, machine_id(number), datetime(2026, 9, 1, tzinfo=UTC), 240,
                  "shared-cpu-2x", 1024, egress_internet_gb="0.5")
    run = finalize_month(engine, SEPTEMBER, "sealed")
    [number] = run.finalized
    return engine, org_id, number


FORBIDDEN = [
    "update invoices set subtotal_cents = subtotal_cents + 1, total_cents = total_cents + 1",
    "update invoices set status = 'draft'",
    "update invoices set invoice_number = 'FS-OTHER'",
    "update invoices set credits_cents = 1, total_cents = subtotal_cents - 1",
    "delete from invoices",
    "update invoice_lines set amount_cents = amount_cents + 1",
    "update invoice_lines set description = 'edited'",
    "delete from invoice_lines",
    "insert into invoice_lines select org_id, invoice_id, line_no + 100, product, price_list_id,"
    " region_code, preset_code, memory_mb, egress_group, description, quantity, pricing_unit,"
    " unit_price, amount_precise, amount_cents, consumed_quantity, consumed_unit"
    " from invoice_lines",
    "update invoice_allocations set amount_cents = amount_cents + 1",
    "delete from invoice_allocations",
    "update invoice_group_amounts set amount_cents = amount_cents + 1",
    "delete from invoice_group_amounts",
    "update invoice_group_resources set lines = lines + 1",
    "delete from invoice_group_resources",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_a_finalized_invoice_its_lines_and_allocations_cannot_change(finalized, statement):
    engine, _org_id, number = finalized
    with engine.connect() as connection:
        before = connection.execute(text(
            "select content_hash, total_cents from invoices where invoice_number = :number"
        ), {"number": number}).one()
    with pytest.raises(DBAPIError, match=f"invoice {number}"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        after = connection.execute(text(
            "select content_hash, total_cents from invoices where invoice_number = :number"
        ), {"number": number}).one()
    assert after == before


def test_a_finalized_invoice_may_be_paid_or_voided_once(finalized):
    engine, _org_id, number = finalized
    with engine.begin() as connection:
        connection.execute(text(
            "update invoices set status = 'paid', paid_at = now() where invoice_number = :n"
        ), {"n": number})
    with pytest.raises(DBAPIError, match="cannot go from paid to void"), engine.begin() as c:
        c.execute(text("update invoices set status = 'void', voided_at = now() "
                       "where invoice_number = :n"), {"n": number})


def test_redrafting_and_refinalizing_leave_a_finalized_invoice_alone(finalized):
    engine, org_id, number = finalized
    add_hours(engine, org_id, machine_id(1), datetime(2026, 9, 20, tzinfo=UTC), 5,
              "shared-cpu-2x", 1024)
    with engine.connect() as connection:
        before = connection.execute(text("select * from invoices")).all()
    assert draft_month(engine, SEPTEMBER).already_sealed == [number]
    assert finalize_month(engine, SEPTEMBER).finalized == []
    with engine.connect() as connection:
        assert connection.execute(text("select * from invoices")).all() == before


def test_credit_notes_reduce_the_total_and_cannot_over_credit(finalized):
    engine, _org_id, number = finalized
    staff = make_staff(engine)
    with engine.connect() as connection:
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where invoice_number = :n"), {"n": number}
        ).scalar_one()
    first = issue_credit_note(engine, invoice_number=number, amount_cents=subtotal - 10,
                              reason="outage on 2026-09-03", support_ticket="SUP-1",
                              issued_by=staff)
    assert first.credit_note_number == f"CN-{number}-1"
    assert (first.invoice_credits_cents, first.invoice_total_cents) == (subtotal - 10, 10)

    with pytest.raises(CreditNoteError, match="over-credit"):
        issue_credit_note(engine, invoice_number=number, amount_cents=11, reason="again",
                          support_ticket="SUP-2", issued_by=staff)
    last = issue_credit_note(engine, invoice_number=number, amount_cents=10, reason="rest",
                             support_ticket="SUP-3", issued_by=staff)
    assert (last.credit_note_number, last.invoice_total_cents) == (f"CN-{number}-2", 0)


def test_the_database_refuses_over_credit_and_edited_credit_notes(finalized):
    engine, _org_id, number = finalized
    staff = make_staff(engine)
    insert = text(
        "insert into credit_notes (org_id, invoice_id, credit_note_number, amount_cents, reason,"
        " support_ticket, issued_by) select org_id, invoice_id, :cn, subtotal_cents + 1, 'r',"
        " 'SUP-9', :staff from invoices where invoice_number = :n")
    with pytest.raises(IntegrityError, match="credits_within_subtotal"), engine.begin() as c:
        c.execute(insert, {"cn": "CN-direct", "staff": staff, "n": number})
    issue_credit_note(engine, invoice_number=number, amount_cents=5, reason="goodwill",
                      support_ticket="SUP-4", issued_by=staff)
    for statement in ("update credit_notes set amount_cents = 1", "delete from credit_notes"):
        with pytest.raises(DBAPIError, match="cannot be changed"), engine.begin() as c:
            c.execute(text(statement))


def test_credit_notes_need_a_finalized_invoice(engine):
    org_id, app_id = make_org(engine, "drafty")
    make_machine(engine, org_id, app_id, machine_id(1), "iad", "shared-cpu-1x", 256)
    add_hours(engine, org_id, machine_id(1), datetime(2026, 9, 1, tzinfo=UTC), 10,
              "shared-cpu-1x", 256)
    [number] = draft_month(engine, SEPTEMBER, "drafty").drafted
    with pytest.raises(CreditNoteError, match="is draft"):
        issue_credit_note(engine, invoice_number=number, amount_cents=1, reason="r",
                          support_ticket="SUP-5", issued_by=make_staff(engine))


def test_concurrent_credits_are_serialized_on_the_invoice_row(finalized):
    """While one transaction holds the invoice and credits most of it, a second credit waits,
    then sees that credit and is refused instead of over-crediting."""
    engine, _org_id, number = finalized
    staff = make_staff(engine)
    with engine.connect() as connection:
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where invoice_number = :n"), {"n": number}
        ).scalar_one()
    share = subtotal * 6 // 10
    outcome: dict[str, object] = {}
    started = threading.Event()

    def second_credit() -> None:
        started.set()
        try:
            outcome["note"] = issue_credit_note(
                engine, invoice_number=number, amount_cents=share, reason="second",
                support_ticket="SUP-7", issued_by=staff)
        except CreditNoteError as error:
            outcome["error"] = error

    with engine.begin() as holder:
        holder.execute(text("select 1 from invoices where invoice_number = :n for update"),
                       {"n": number})
        worker = threading.Thread(target=second_credit)
        worker.start()
        started.wait()
        worker.join(timeout=1.0)
        assert worker.is_alive(), "the second credit should wait for the invoice row lock"
        holder.execute(text(
            "insert into credit_notes (org_id, invoice_id, credit_note_number, amount_cents,"
            " reason, support_ticket, issued_by) select org_id, invoice_id, 'CN-first', :amount,"
            " 'first', 'SUP-6', :staff from invoices where invoice_number = :n"
        ), {"amount": share, "staff": staff, "n": number})
    worker.join(timeout=30)
    assert "note" not in outcome
    assert "over-credit" in str(outcome["error"])
    with engine.connect() as connection:
        credits, total = connection.execute(text(
            "select credits_cents, total_cents from invoices where invoice_number = :n"),
            {"n": number}).one()
    assert (credits, total) == (share, subtotal - share)
