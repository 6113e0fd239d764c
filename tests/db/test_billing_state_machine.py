"""A hypothesis state machine over the billing engine: it adds usage, drafts, finalizes and
credits in any order, and re-checks invariants 1-5 after every step.

The model keeps the usage it added and prices it in Python from the published constants, so
line amounts are checked against an independent computation, not only against the SQL.
One database per test function; each example starts from empty tenant tables.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from fleetspend.billing.credit_notes import CreditNoteError, issue_credit_note
from fleetspend.billing.invoices import draft_month, finalize_month
from fleetspend.billing.verify import verify_month
from tests.db.billing_builders import (
    EGRESS_INTERNET,
    add_hours,
    cents,
    machine_id,
    make_machine,
    make_org,
    make_staff,
    price_list_at,
    runtime_price,
)

SLUG = "fuzz"
MONTHS = [date(2026, 9, 1), date(2026, 10, 1)]  # October holds the price change
FLEET = [(1, "iad", "shared-cpu-1x", 256), (2, "sjc", "performance-1x", 4096),
         (3, "gru", "shared-cpu-2x", 1024)]
PRICE_LIST_IDS = {"previous": 1, "current": 2}


def _expected_by_product(rows: list) -> dict[tuple[str, int], Decimal]:
    """The precise amount per (product, price list) of the model's usage rows."""
    expected: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for (_number, region, preset, memory_mb), hour_at, seconds, egress_gb in rows:
        price_list = price_list_at(hour_at)
        key = PRICE_LIST_IDS[price_list]
        if seconds:
            expected["machine_runtime", key] += (
                seconds * runtime_price(preset, memory_mb, region, price_list))
        if egress_gb:
            expected["egress_internet", key] += egress_gb * EGRESS_INTERNET[region]
    return dict(expected)


def _invoice_state(connection, org_id: int, month: date):
    invoice = connection.execute(text(
        "select invoice_id, invoice_number, status, subtotal_cents, credits_cents, total_cents,"
        " content_hash from invoices where org_id = :org_id and period_start_date = :month"
    ), {"org_id": org_id, "month": month}).one_or_none()
    if invoice is None:
        return None, [], []
    lines = connection.execute(text(
        "select * from invoice_lines where org_id = :org_id and invoice_id = :invoice_id "
        "order by line_no"), {"org_id": org_id, "invoice_id": invoice.invoice_id}).all()
    allocations = connection.execute(text(
        "select * from invoice_allocations where org_id = :org_id and invoice_id = :invoice_id "
        "order by line_no, resource_id"),
        {"org_id": org_id, "invoice_id": invoice.invoice_id}).all()
    return invoice, lines, allocations


def test_billing_invariants_hold_under_any_sequence_of_operations(engine):
    class Billing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with engine.begin() as connection:
                # a throw-away database: the switch the seed uses to discard sealed invoices
                connection.execute(text("set local fleetspend.discard_sealed_data = on"))
                connection.execute(text(
                    "truncate organizations, staff_users restart identity cascade"))
            self.org_id, app_id = make_org(engine, SLUG)
            self.staff = make_staff(engine)
            for number, region, preset, memory_mb in FLEET:
                make_machine(engine, self.org_id, app_id, machine_id(number), region, preset,
                             memory_mb)
            self.usage: dict[date, list] = defaultdict(list)
            self.used_hours: set[tuple[int, datetime]] = set()
            self.fresh: set[date] = set()  # months drafted since their last usage
            self.sealed: dict[date, tuple] = {}  # finalized invoice content, as sealed
            self.credited: dict[date, int] = defaultdict(int)

        @rule(machine=st.sampled_from(FLEET), month=st.sampled_from(MONTHS),
              hour=st.integers(0, 30 * 24 - 1), seconds=st.integers(0, 3600),
              egress_milli_gb=st.integers(0, 50_000))
        def add_usage(self, machine, month, hour, seconds, egress_milli_gb):
            assume(month not in self.sealed)  # late usage is test_billing_invariants' case
            hour_at = datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(hours=hour)
            assume((machine[0], hour_at) not in self.used_hours)
            egress_gb = Decimal(egress_milli_gb) / 1000
            add_hours(engine, self.org_id, machine_id(machine[0]), hour_at, 1, machine[2],
                      machine[3], runtime_seconds=seconds, egress_internet_gb=str(egress_gb))
            self.used_hours.add((machine[0], hour_at))
            self.usage[month].append((machine, hour_at, seconds, egress_gb))
            self.fresh.discard(month)

        @rule(month=st.sampled_from(MONTHS))
        def draft(self, month):
            run = draft_month(engine, month, SLUG)
            if month in self.sealed:
                assert run.drafted == [] and len(run.already_sealed) == 1
            else:
                assert len(run.drafted) == 1
                self.fresh.add(month)

        @rule(month=st.sampled_from(MONTHS))
        def finalize(self, month):
            run = finalize_month(engine, month, SLUG)
            if month in self.sealed:
                assert run.finalized == []
                return
            assert len(run.finalized) == 1
            self.fresh.add(month)
            with engine.connect() as connection:
                self.sealed[month] = _invoice_state(connection, self.org_id, month)

        @rule(month=st.sampled_from(MONTHS), percent=st.integers(1, 120))
        def credit(self, month, percent):
            assume(month in self.sealed)
            invoice = self.sealed[month][0]
            amount = max(1, invoice.subtotal_cents * percent // 100)
            try:
                issue_credit_note(engine, invoice_number=invoice.invoice_number,
                                  amount_cents=amount, reason="fuzzed correction",
                                  support_ticket="SUP-FUZZ", issued_by=self.staff)
            except CreditNoteError:
                assert self.credited[month] + amount > invoice.subtotal_cents
            else:
                assert self.credited[month] + amount <= invoice.subtotal_cents
                self.credited[month] += amount

        @invariant()
        def invoices_add_up(self):
            with engine.connect() as connection:
                for month in MONTHS:
                    invoice, lines, allocations = _invoice_state(connection, self.org_id, month)
                    if invoice is None:
                        continue
                    self._check_invoice(connection, month, invoice, lines, allocations)

        def _check_invoice(self, connection, month, invoice, lines, allocations):
            notes = connection.execute(text(
                "select coalesce(sum(amount_cents), 0) from credit_notes "
                "where org_id = :org_id and invoice_id = :invoice_id"),
                {"org_id": self.org_id, "invoice_id": invoice.invoice_id}).scalar_one()
            # invariant 1
            assert invoice.subtotal_cents == sum(line.amount_cents for line in lines)
            assert invoice.credits_cents == notes == self.credited[month]
            assert invoice.total_cents == invoice.subtotal_cents - invoice.credits_cents
            for line in lines:
                # invariant 2
                assert line.amount_cents == cents(line.amount_precise)
                # invariant 3
                mine = [a for a in allocations if a.line_no == line.line_no]
                assert sum(a.amount_cents for a in mine) == line.amount_cents
                assert abs(sum(a.amount_precise for a in mine) - line.amount_precise) <= (
                    Decimal("1e-18") * len(mine))
                for allocation in mine:
                    if line.amount_precise:
                        share = line.amount_cents * allocation.amount_precise / line.amount_precise
                        assert abs(allocation.amount_cents - share) < 1
            if month in self.fresh:
                by_product: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
                for line in lines:
                    by_product[line.product, line.price_list_id] += line.amount_precise
                expected = _expected_by_product(self.usage[month])
                assert {k: v for k, v in by_product.items() if v} == {
                    k: v for k, v in expected.items() if v}
            if month in self.sealed:
                # invariant 5: only the credits moved since sealing
                sealed_invoice, sealed_lines, sealed_allocations = self.sealed[month]
                assert (invoice.status, invoice.subtotal_cents, invoice.content_hash) == (
                    "finalized", sealed_invoice.subtotal_cents, sealed_invoice.content_hash)
                assert (lines, allocations) == (sealed_lines, sealed_allocations)
                # invariant 4
                assert verify_month(engine, month, SLUG) == []

    run_state_machine_as_test(Billing, settings=settings(
        max_examples=6, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
