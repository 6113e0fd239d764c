"""The invoice status vocabulary (fleetspend/billing/invoice_status.py) says what the database
says: read from pg_catalog after all migrations, so a status added to the check constraint, or
a guard that lets another status take credit notes, fails here until the module follows."""

from __future__ import annotations

import re

from sqlalchemy import text

from fleetspend.billing import invoice_status

QUOTED = re.compile(r"'(\w+)'")


def _scalar(engine, statement: str) -> str:
    with engine.connect() as connection:
        return connection.execute(text(statement)).scalar_one()


def test_the_statuses_are_exactly_those_the_check_constraint_admits(engine):
    definition = _scalar(engine, "select pg_get_constraintdef(oid) from pg_constraint "
                                 "where conname = 'ck_invoices_status_known'")
    assert sorted(QUOTED.findall(definition)) == sorted(invoice_status.STATUSES)


def test_the_credit_note_trigger_takes_exactly_the_sealed_statuses(engine):
    source = _scalar(engine, "select prosrc from pg_proc where proname = 'credit_note_guard'")
    allowed = re.findall(r"invoice_status is distinct from '(\w+)'", source)
    assert sorted(allowed) == sorted(invoice_status.SEALED)


def test_the_support_credit_function_takes_exactly_the_sealed_statuses(engine):
    source = _scalar(engine, "select prosrc from pg_proc where proname = 'issue_support_credit'")
    match = re.search(r"invoice\.status not in \(([^)]*)\)", source)
    assert match is not None
    assert sorted(QUOTED.findall(match.group(1))) == sorted(invoice_status.SEALED)


def test_left_to_credit_is_all_the_credits_check_constraint_admits(engine):
    definition = _scalar(engine, "select pg_get_constraintdef(oid) from pg_constraint "
                                 "where conname = 'ck_invoices_credits_within_subtotal'")
    condition = re.fullmatch(r"CHECK \((.*)\)", definition).group(1)
    # the constraint's own condition (catalog text, not input), over one candidate row
    admits = text(f"select {condition} from (values (cast(:credits as bigint), "
                  "cast(:subtotal as bigint))) as invoices(credits_cents, subtotal_cents)")
    with engine.connect() as connection:
        for subtotal, credited in [(1000, 0), (1000, 400), (1000, 1000), (-250, 0)]:
            left = invoice_status.left_to_credit(subtotal, credited)
            results = [connection.execute(admits, {"credits": credited + extra,
                                                   "subtotal": subtotal}).scalar_one()
                       for extra in (left, left + 1)]
            assert results == [True, False], (subtotal, credited, left)
