"""The demo seed bills its history: ended months finalized, the current one drafted, two
disputes settled with credit notes and one left open for support to find (seed.billing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text

from fleetspend.billing.verify import verify_month
from fleetspend.seed.billing import CORRECTED_FROM, CORRECTED_UNTIL, OPEN_DISPUTE, SETTLED
from tests.conftest import engine_for


@pytest.fixture
def demo_engine(demo_database_url: str) -> Iterator[Engine]:
    engine = engine_for(demo_database_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine, sql: str, **parameters) -> list:
    with engine.connect() as connection:
        return connection.execute(text(sql), parameters).all()


def test_every_ended_month_is_finalized_and_the_current_month_drafted(demo_engine) -> None:
    months = _rows(demo_engine, """
        select period_start_date, array_agg(distinct status), count(*)
        from invoices group by period_start_date order by period_start_date""")
    assert [(month, statuses) for month, statuses, _ in months] == [
        (date(2026, 8, 1), ["finalized"]), (date(2026, 9, 1), ["finalized"]),
        (date(2026, 10, 1), ["finalized"]), (date(2026, 11, 1), ["draft"])]
    assert all(count == 6 for _, _, count in months)  # every organization, every month


def test_two_disputes_are_settled_with_credit_notes(demo_engine) -> None:
    notes = _rows(demo_engine, """
        select organizations.slug, invoices.period_start_date, credit_notes.support_ticket,
               credit_notes.amount_cents, invoices.total_cents,
               invoices.subtotal_cents - invoices.credits_cents
        from credit_notes
        join invoices using (org_id, invoice_id)
        join organizations using (org_id)
        order by credit_notes.support_ticket""")
    assert [(slug, month, ticket, cents) for slug, month, ticket, cents, _, _ in notes] == [
        (d.org_slug, d.month, d.ticket, d.credit_cents) for d in SETTLED]
    assert all(total == net for *_, total, net in notes)


def test_only_the_open_dispute_re_rates_differently_for_the_machine_re_sent_idle(
        demo_engine) -> None:
    for month in (date(2026, 8, 1), date(2026, 9, 1)):
        assert verify_month(demo_engine, month) == []
    differences = verify_month(demo_engine, OPEN_DISPUTE.month)
    (number,) = {d.invoice_number for d in differences}
    assert number.startswith(f"FS-{OPEN_DISPUTE.month:%Y%m}-")
    # the late correction is carried by the upcoming invoice, not left open
    assert {d.carried_by for d in differences} == {number.replace("202610", "202611")}
    (machine_id,) = {d.resource_id for d in differences
                     if d.level == "allocation" and d.field == "consumed_quantity"}
    (slug, runtime), = _rows(demo_engine, """
        select organizations.slug, sum(machine_usage.runtime_seconds)
        from machine_usage join organizations using (org_id)
        where machine_usage.machine_id = :machine_id
          and machine_usage.hour_at >= :start and machine_usage.hour_at < :end
        group by organizations.slug""", machine_id=machine_id, start=CORRECTED_FROM,
        end=CORRECTED_UNTIL)
    assert (slug, runtime) == (OPEN_DISPUTE.org_slug, 0)
