"""A hypothesis state machine over a real usage feed: import files of new hours, corrections,
late hours and size changes (resizes learned after the fact), interleaved with drafting and
finalizing across three months (September, October with its price change, November).

After every step: sealed invoices never change, every invoice adds up (total = lines -
credits, each line = its allocations). At the end, with every open month drafted in order,
the invoices of all months together bill each month's final usage exactly once: per line, the
month's own line plus its adjustments equals the usage priced in Python from the published
constants, rounded once, half up (DESIGN.md invariant 7).
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from fleetspend.billing.invoices import draft_month, finalize_month
from tests.db.billing_builders import EGRESS_INTERNET, price_list_at, runtime_price
from tests.db.usage_files import event, ingest, machine, make_tenant, usage

SLUG = "feed"
MONTHS = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
DECEMBER = date(2026, 12, 1)
STARTED_AT = datetime(2026, 9, 1, tzinfo=UTC)
# (machine id, region, its size, the size a resize learned late gives one hour)
FLEET = [("0000000000f001", "iad", ("shared-cpu-1x", 256), ("shared-cpu-2x", 512)),
         ("0000000000f002", "gru", ("performance-1x", 2048), ("performance-1x", 4096))]
PRICE_LIST_IDS = {"previous": 1, "current": 2}


def _month_end(month: date) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _hour_at(month: date, hour: int) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(hours=hour)


def _expected_cents(rows: dict) -> dict[tuple, int]:
    """Each month's lines priced from the published constants: summed quantity times the
    unit price, rounded once, half up (keys: month, product, price list, size)."""
    amounts: dict[tuple, Fraction] = defaultdict(Fraction)
    for (machine_number, hour_at), (size, seconds, egress_gb) in rows.items():
        _, region, _, _ = FLEET[machine_number]
        month = date(hour_at.year, hour_at.month, 1)
        price_list = price_list_at(hour_at)
        list_id = PRICE_LIST_IDS[price_list]
        if seconds:
            amounts[month, "machine_runtime", list_id, region, *size] += Fraction(
                seconds * runtime_price(*size, region, price_list))
        if egress_gb:
            amounts[month, "egress_internet", list_id, region, None, None] += Fraction(
                egress_gb * EGRESS_INTERNET[region])
    return {key: math.floor(amount * 100 + Fraction(1, 2)) for key, amount in amounts.items()}


def test_every_months_usage_is_billed_once_whatever_the_feed_does(engine):
    files = Path(tempfile.mkdtemp(prefix="feed-"))

    class Feed(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with engine.begin() as connection:
                # a throw-away database: the switch the seed uses to discard sealed invoices
                connection.execute(text("set local fleetspend.discard_sealed_data = on"))
                connection.execute(text("truncate organizations restart identity cascade"))
            self.org_id = make_tenant(engine, SLUG, "web")
            ingest(engine, files, [
                record
                for machine_id, region, (preset, memory_mb), _ in FLEET
                for record in (machine(SLUG, "web", machine_id, STARTED_AT, region=region,
                                       preset=preset, memory_mb=memory_mb),
                               event(SLUG, machine_id, STARTED_AT, "start"))])
            # (machine, hour) -> (size, runtime seconds, internet egress GB): what is stored
            self.rows: dict[tuple[int, datetime], tuple] = {}
            self.resized: set[tuple[int, datetime]] = set()
            self.sealed: dict[date, tuple] = {}

        def _size(self, number: int, hour_at: datetime) -> tuple[str, int]:
            return FLEET[number][3] if (number, hour_at) in self.resized else FLEET[number][2]

        def _send(self, number: int, hour_at: datetime, seconds: int, egress_gb: Decimal,
                  extra: list[dict] | None = None) -> None:
            size = self._size(number, hour_at)
            ingest(engine, files, [*(extra or []), usage(
                SLUG, FLEET[number][0], hour_at, runtime_seconds=seconds, preset=size[0],
                memory_mb=size[1], egress_internet_gb=str(egress_gb))])
            self.rows[number, hour_at] = (size, seconds, egress_gb)

        @rule(number=st.integers(0, len(FLEET) - 1), month=st.sampled_from(MONTHS),
              hour=st.integers(0, 27 * 24), seconds=st.integers(0, 3600),
              egress_milli_gb=st.integers(0, 9_999))
        def send_hour(self, number, month, hour, seconds, egress_milli_gb):
            """A new hour, a corrected one, or a late one (its month already sealed)."""
            self._send(number, _hour_at(month, hour), seconds,
                       Decimal(egress_milli_gb) / 1000)

        @rule(number=st.integers(0, len(FLEET) - 1), month=st.sampled_from(MONTHS),
              hour=st.integers(1, 27 * 24 - 1), seconds=st.integers(0, 3600))
        def learn_a_resize(self, number, month, hour, seconds):
            """The platform learns late that the machine ran one hour at another size: the
            resize events and the hour at its new size arrive together, replacing the hour."""
            hour_at = _hour_at(month, hour)
            assume(not {(number, hour_at + timedelta(hours=step)) for step in (-1, 0, 1)}
                   & self.resized)
            machine_id = FLEET[number][0]
            (preset, memory_mb), (new_preset, new_memory) = FLEET[number][2:]
            self.resized.add((number, hour_at))
            self._send(number, hour_at, seconds, Decimal(0), extra=[
                event(SLUG, machine_id, hour_at, "resize", preset=new_preset,
                      memory_mb=new_memory),
                event(SLUG, machine_id, hour_at + timedelta(hours=1), "resize",
                      preset=preset, memory_mb=memory_mb)])

        @rule(month=st.sampled_from([*MONTHS, DECEMBER]))
        def draft(self, month):
            run = draft_month(engine, month, SLUG)
            assert len(run.already_sealed) == (month in self.sealed)

        @rule(month=st.sampled_from(MONTHS))
        def finalize(self, month):
            finalize_month(engine, month, SLUG, now=_month_end(month) + timedelta(days=1))
            if month not in self.sealed:
                self.sealed[month] = self._invoice(month)

        def _invoice(self, month: date) -> tuple:
            with engine.connect() as connection:
                invoice = connection.execute(text(
                    "select * from invoices where org_id = :org_id"
                    " and period_start_date = :month"),
                    {"org_id": self.org_id, "month": month}).one_or_none()
                if invoice is None:
                    return None, [], []
                key = {"org_id": self.org_id, "invoice_id": invoice.invoice_id}
                lines = connection.execute(text(
                    "select * from invoice_lines where org_id = :org_id"
                    " and invoice_id = :invoice_id order by line_no"), key).all()
                allocations = connection.execute(text(
                    "select * from invoice_allocations where org_id = :org_id"
                    " and invoice_id = :invoice_id order by line_no, resource_id"), key).all()
            return invoice, lines, allocations

        @invariant()
        def sealed_invoices_never_change_and_every_invoice_adds_up(self):
            for month in [*MONTHS, DECEMBER]:
                invoice, lines, allocations = self._invoice(month)
                if month in self.sealed:
                    assert (invoice, lines, allocations) == self.sealed[month]
                if invoice is None:
                    continue
                assert invoice.subtotal_cents == sum(line.amount_cents for line in lines)
                assert invoice.total_cents == invoice.subtotal_cents - invoice.credits_cents
                for line in lines:
                    assert line.amount_cents == sum(
                        allocation.amount_cents for allocation in allocations
                        if allocation.line_no == line.line_no)

        def teardown(self):
            for month in [*MONTHS, DECEMBER]:
                if month not in self.sealed:
                    draft_month(engine, month, SLUG)
            with engine.connect() as connection:
                billed_rows = connection.execute(text(
                    "select coalesce(adjusts_period_date, period_start_date), product,"
                    " price_list_id, region_code, preset_code, memory_mb, sum(amount_cents)"
                    " from invoice_lines join invoices using (org_id, invoice_id)"
                    " where org_id = :org_id group by 1, 2, 3, 4, 5, 6"),
                    {"org_id": self.org_id}).all()
            billed = {tuple(row[:6]): row[6] for row in billed_rows if row[6]}
            expected = {key: cents for key, cents in _expected_cents(self.rows).items()
                        if cents}
            assert billed == expected

    run_state_machine_as_test(Feed, settings=settings(
        max_examples=8, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
