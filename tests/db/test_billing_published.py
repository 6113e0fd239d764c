"""Rating against the published figures of reference/pricing.md, on hand-built machines.

Every machine runs 30 days (720 full hours, 2,592,000 s) inside one month: September 2026 is
wholly on the previous list, November 2026 wholly on the current one. pricing.md rounds the
30-day total to cents; so does an invoice line (one rounding per line).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from fleetspend.billing.invoices import draft_month
from tests.db.billing_builders import add_hours, machine_id, make_machine, make_org

SEPTEMBER = datetime(2026, 9, 1, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)


def _lines(engine, org_id):
    with engine.connect() as connection:
        return connection.execute(text(
            "select line_no, product, price_list_id, region_code, preset_code, memory_mb, "
            "quantity, amount_precise, amount_cents from invoice_lines where org_id = :org_id "
            "order by line_no"
        ), {"org_id": org_id}).all()


def _allocations(engine, org_id):
    with engine.connect() as connection:
        return connection.execute(text(
            "select line_no, resource_id, amount_cents from invoice_allocations "
            "where org_id = :org_id order by line_no, resource_id"
        ), {"org_id": org_id}).all()


@pytest.mark.parametrize(
    ("preset", "memory_mb", "region", "month", "price_list_id", "expected_cents"),
    [
        ("shared-cpu-1x", 256, "iad", NOVEMBER, 2, 219),
        ("shared-cpu-1x", 256, "iad", SEPTEMBER, 1, 194),
        ("performance-1x", 2048, "iad", NOVEMBER, 2, 3300),
    ],
    ids=["shared-1x-256MB-iad-current", "shared-1x-256MB-iad-previous",
         "performance-1x-2GB-iad-current"],
)
def test_one_machine_for_30_days_matches_the_published_price(
    engine, preset, memory_mb, region, month, price_list_id, expected_cents
):
    org_id, app_id = make_org(engine, "published")
    make_machine(engine, org_id, app_id, machine_id(1), region, preset, memory_mb)
    add_hours(engine, org_id, machine_id(1), month, 720, preset, memory_mb)

    draft_month(engine, month.date(), "published")

    [line] = _lines(engine, org_id)
    assert (line.product, line.price_list_id, line.preset_code, line.memory_mb) == (
        "machine_runtime", price_list_id, preset, memory_mb)
    assert line.quantity == 2_592_000
    assert line.amount_cents == expected_cents
    assert _allocations(engine, org_id) == [(1, machine_id(1), expected_cents)]
    with engine.connect() as connection:
        invoice = connection.execute(text(
            "select status, subtotal_cents, credits_cents, total_cents from invoices "
            "where org_id = :org_id"), {"org_id": org_id}).one()
    assert tuple(invoice) == ("draft", expected_cents, 0, expected_cents)


def test_three_shared_1x_1gb_in_sjc_on_the_previous_list_is_20_37(engine):
    org_id, app_id = make_org(engine, "published")
    for number in (1, 2, 3):
        make_machine(engine, org_id, app_id, machine_id(number), "sjc", "shared-cpu-1x", 1024)
        add_hours(engine, org_id, machine_id(number), SEPTEMBER, 720, "shared-cpu-1x", 1024)

    draft_month(engine, date(2026, 9, 1), "published")

    [line] = _lines(engine, org_id)
    assert line.region_code == "sjc"
    # (0.00000075 + 0.75 GB * 0.00000193) * 1.1923 per second, 3 x 2,592,000 s: $20.3737...
    assert line.amount_cents == 2037
    assert [row.amount_cents for row in _allocations(engine, org_id)] == [679, 679, 679]


def test_the_view_prices_each_hour_with_the_list_in_force(engine):
    """An hour before and an hour after the change at 2026-10-15T00:00Z."""
    org_id, app_id = make_org(engine, "published")
    make_machine(engine, org_id, app_id, machine_id(1), "iad", "shared-cpu-1x", 256)
    add_hours(engine, org_id, machine_id(1), datetime(2026, 10, 14, 23, tzinfo=UTC), 2,
              "shared-cpu-1x", 256)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select hour_at, price_list_id, unit_price, amount_precise from rated_usage "
            "where org_id = :org_id and hour_at >= '2026-10-01' and hour_at < '2026-11-01' "
            "order by hour_at"), {"org_id": org_id}).all()
    assert [(row.price_list_id, row.unit_price) for row in rows] == [
        (1, Decimal("0.00000075")), (2, Decimal("0.0000008465"))]
    assert [row.amount_precise for row in rows] == [
        3600 * rows[0].unit_price, 3600 * rows[1].unit_price]
