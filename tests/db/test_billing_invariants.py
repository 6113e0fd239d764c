"""Invariants 1-4 on hand-built usage: totals, one rounding per line, largest-remainder
allocation, agreement with the rated_usage view, and re-rating reproducing invoices."""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import text

from fleetspend.billing.invoices import BillingError, draft_month, finalize_month
from fleetspend.billing.verify import verify_month
from fleetspend.partitions import ensure_month_partitions
from tests.db.billing_builders import (
    EGRESS_INTERNET,
    add_hours,
    cents,
    machine_id,
    make_machine,
    make_org,
    runtime_price,
)

OCTOBER = date(2026, 10, 1)
OCTOBER_AT = datetime(2026, 10, 1, tzinfo=UTC)

LINE_KEY = "product, price_list_id, region_code, preset_code, memory_mb, egress_group"


def _mixed_fleet(engine) -> int:
    """Machines of several sizes and regions through October (which holds the price change),
    with egress, stopped root filesystems, dedicated IPv4 and a volume."""
    org_id, app_id = make_org(engine, "mixed")
    fleet = [(1, "iad", "shared-cpu-1x", 256), (2, "sjc", "shared-cpu-2x", 1024),
             (3, "fra", "performance-1x", 4096), (4, "gru", "performance-2x", 4096),
             (5, "jnb", "shared-cpu-1x", 512), (6, "sjc", "shared-cpu-2x", 1024)]
    for number, region, preset, memory_mb in fleet:
        make_machine(engine, org_id, app_id, machine_id(number), region, preset, memory_mb)
        add_hours(engine, org_id, machine_id(number), OCTOBER_AT + timedelta(hours=number),
                  600 + 7 * number, preset, memory_mb, runtime_seconds=3600 - 37 * number,
                  egress_internet_gb=f"0.{number:03d}123",
                  stopped_rootfs_gb_seconds=str(37 * number),
                  dedicated_ipv4_seconds=3600 if number % 2 else 0)
    with engine.begin() as connection:
        ensure_month_partitions(connection, OCTOBER_AT, OCTOBER_AT + timedelta(days=31))
        connection.execute(text(
            "insert into volumes (org_id, volume_id, app_id, region_code, size_gb, created_at) "
            "values (:org_id, 'vol_0000000000000001', :app_id, 'fra', 10, '2026-01-01')"
        ), {"org_id": org_id, "app_id": app_id})
        connection.execute(text(
            "insert into volume_usage (org_id, volume_id, hour_at, gb_hours) "
            "select :org_id, 'vol_0000000000000001', hour_at, 10 "
            "from generate_series(cast(:start as timestamptz), cast(:start as timestamptz) "
            "+ interval '743 hours', interval '1 hour') as hour_at"
        ), {"org_id": org_id, "start": OCTOBER_AT})
    return org_id


def test_a_price_change_inside_the_month_splits_lines_priced_from_published_constants(engine):
    org_id, app_id = make_org(engine, "split")
    make_machine(engine, org_id, app_id, machine_id(1), "sjc", "shared-cpu-2x", 1024)
    add_hours(engine, org_id, machine_id(1), OCTOBER_AT, 744, "shared-cpu-2x", 1024,
              egress_internet_gb="0.25")
    draft_month(engine, OCTOBER, "split")
    with engine.connect() as connection:
        lines = connection.execute(text(
            "select product, price_list_id, quantity, amount_precise, amount_cents "
            "from invoice_lines where org_id = :org_id order by line_no"), {"org_id": org_id}
        ).all()
    before, after = 14 * 24, 17 * 24  # hours on each list: Oct 1-14 and Oct 15-31
    expected = {
        ("machine_runtime", 1): runtime_price("shared-cpu-2x", 1024, "sjc", "previous")
        * 3600 * before,
        ("machine_runtime", 2): runtime_price("shared-cpu-2x", 1024, "sjc", "current")
        * 3600 * after,
        ("egress_internet", 1): EGRESS_INTERNET["sjc"] * Decimal("0.25") * before,
        ("egress_internet", 2): EGRESS_INTERNET["sjc"] * Decimal("0.25") * after,
    }
    assert {(line.product, line.price_list_id): line.amount_precise for line in lines} == expected
    assert all(line.amount_cents == cents(line.amount_precise) for line in lines)


def test_each_line_is_its_summed_quantity_times_its_unit_price_rounded_once(engine):
    """The line's quantities are the rated_usage view's, summed; its precise amount is the
    summed quantity times the unit price, with no rounding per hour, and its cents that exact
    amount rounded once, half up (computed here with exact fractions)."""
    org_id = _mixed_fleet(engine)
    draft_month(engine, OCTOBER, "mixed")
    with engine.connect() as connection:
        from_view = connection.execute(text(
            "select product, price_list_id, region_code,"
            "  case when product = 'machine_runtime' then preset_code end,"
            "  case when product = 'machine_runtime' then memory_mb end,"
            "  case when product like 'egress%' then egress_group end,"
            "  sum(consumed_quantity), sum(amount_precise) "
            "from rated_usage where org_id = :org_id "
            "and hour_at >= '2026-10-01' and hour_at < '2026-11-01' "
            "group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6"), {"org_id": org_id}).all()
        stored = connection.execute(text(
            f"select {LINE_KEY}, consumed_quantity, unit_price, amount_precise, amount_cents,"
            " consumed_per_pricing_unit from invoice_lines join products using (product) "
            "where org_id = :org_id order by 1, 2, 3, 4, 5, 6"), {"org_id": org_id}).all()
    assert {row[0] for row in stored} == {
        "machine_runtime", "stopped_rootfs", "dedicated_ipv4", "egress_internet", "volume"}
    assert [tuple(row[:7]) for row in stored] == [tuple(row[:7]) for row in from_view]
    for line, viewed in zip(stored, from_view, strict=True):
        consumed, unit_price, precise, amount_cents, conversion = line[6:]
        exact = Fraction(consumed) * Fraction(unit_price) / Fraction(conversion)
        assert precise == Decimal(round(exact * 10**18)) / 10**18
        assert amount_cents == math.floor(exact * 100 + Fraction(1, 2))
        # the view rounds each hour to 18 decimals: a hair apart, never more
        assert abs(viewed[7] - precise) < Decimal("1e-12")


def test_totals_rounding_and_largest_remainder_allocation(engine):
    org_id = _mixed_fleet(engine)
    draft_month(engine, OCTOBER, "mixed")
    with engine.connect() as connection:
        invoice = connection.execute(text(
            "select invoice_id, subtotal_cents, credits_cents, total_cents from invoices "
            "where org_id = :org_id"), {"org_id": org_id}).one()
        lines = connection.execute(text(
            "select line_no, amount_precise, amount_cents from invoice_lines "
            "where org_id = :org_id"), {"org_id": org_id}).all()
        allocations = connection.execute(text(
            "select line_no, amount_precise, amount_cents from invoice_allocations "
            "where org_id = :org_id"), {"org_id": org_id}).all()
    assert invoice.subtotal_cents == sum(line.amount_cents for line in lines)
    assert invoice.total_cents == invoice.subtotal_cents - invoice.credits_cents
    for line in lines:
        assert line.amount_cents == cents(line.amount_precise)
        mine = [a for a in allocations if a.line_no == line.line_no]
        # each allocation's precise amount is shown to 18 decimals, as the line's is
        assert abs(sum(a.amount_precise for a in mine) - line.amount_precise) <= Decimal(
            "1e-18") * len(mine)
        assert sum(a.amount_cents for a in mine) == line.amount_cents
        for allocation in mine:
            share = line.amount_cents * allocation.amount_precise / line.amount_precise
            assert abs(allocation.amount_cents - share) < 1


def test_allocation_hands_out_leftover_cents_by_largest_remainder(engine):
    """Three equal machines on a 100-cent line get 34, 33, 33: the tie goes by machine id."""
    org_id, app_id = make_org(engine, "thirds")
    # 16.666667 GB at $0.02 each: the line is 3 * $0.33333334 = $1.00000002, i.e. 100 cents
    for number in (1, 2, 3):
        make_machine(engine, org_id, app_id, machine_id(number), "iad", "shared-cpu-1x", 256)
        add_hours(engine, org_id, machine_id(number), OCTOBER_AT, 1, "shared-cpu-1x", 256,
                  runtime_seconds=0, egress_internet_gb="16.666667")
    draft_month(engine, OCTOBER, "thirds")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select resource_id, amount_cents from invoice_allocations "
            "where org_id = :org_id order by resource_id"), {"org_id": org_id}).all()
    assert [row.amount_cents for row in rows] == [34, 33, 33]


def test_drafting_twice_gives_the_same_invoice(engine):
    org_id = _mixed_fleet(engine)
    snapshot = (
        "select i.invoice_id, i.invoice_number, i.subtotal_cents, l.*, "
        "(select array_agg(row(a.*)::text order by a.line_no, a.resource_id) "
        " from invoice_allocations a where a.org_id = i.org_id and a.invoice_id = i.invoice_id)"
        " from invoices i join invoice_lines l using (org_id, invoice_id) "
        "where i.org_id = :org_id order by l.line_no")
    first = draft_month(engine, OCTOBER, "mixed")
    with engine.connect() as connection:
        before = connection.execute(text(snapshot), {"org_id": org_id}).all()
    second = draft_month(engine, OCTOBER, "mixed")
    with engine.connect() as connection:
        after = connection.execute(text(snapshot), {"org_id": org_id}).all()
    assert first.drafted == second.drafted == ["FS-202610-" + f"{org_id:06d}"]
    assert after == before


def test_re_rating_reproduces_finalized_invoices_and_reports_late_usage(engine):
    org_id = _mixed_fleet(engine)
    [number] = finalize_month(engine, OCTOBER).finalized
    assert verify_month(engine, OCTOBER) == []
    assert finalize_month(engine, OCTOBER).already_sealed == [number]

    # usage arriving after finalization: verify names the invoice, the line and the machine
    add_hours(engine, org_id, machine_id(2), datetime(2026, 10, 31, 23, tzinfo=UTC), 1,
              "shared-cpu-2x", 1024, runtime_seconds=3600)
    differences = verify_month(engine, OCTOBER, "mixed")
    assert {d.invoice_number for d in differences} == {number}
    assert {(d.level, d.field) for d in differences} >= {
        ("line", "consumed_quantity"), ("line", "amount_precise"),
        ("allocation", "consumed_quantity")}
    [machine_difference] = [d for d in differences
                            if d.level == "allocation" and d.field == "consumed_quantity"]
    assert machine_difference.resource_id == machine_id(2)
    assert "shared-cpu-2x 1024 MB in sjc" in machine_difference.line
    assert Decimal(machine_difference.expected) - Decimal(machine_difference.stored) == 3600


def test_finalizing_a_month_that_has_not_ended_is_refused(engine):
    make_org(engine, "early")
    with pytest.raises(BillingError, match="has not ended"):
        finalize_month(engine, date(2026, 11, 1), now=datetime(2026, 11, 27, tzinfo=UTC))


def test_an_unknown_org_is_a_clear_error(engine):
    with pytest.raises(BillingError, match="no organization with slug 'nobody'"):
        draft_month(engine, OCTOBER, "nobody")
