"""Largest-remainder allocation (the Python twin of the SQL used by the benchmark baseline),
and the month arguments of the invoice commands."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetspend.billing.rating import month_bounds, parse_month
from fleetspend.money import largest_remainder

weights = st.lists(
    st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=40)


@given(total=st.integers(0, 10_000_000), weights=weights)
def test_allocations_sum_to_the_total_and_stay_within_a_cent_of_their_share(total, weights):
    allocated = largest_remainder(total, weights)
    weight_total = sum(weights, Decimal(0))
    if weight_total == 0:
        assert allocated == [0] * len(weights)
        return
    assert sum(allocated) == total
    for cents, weight in zip(allocated, weights, strict=True):
        assert abs(cents - total * weight / weight_total) < 1


def test_leftover_cents_go_to_the_largest_remainders_then_the_first():
    assert largest_remainder(100, [Decimal(1)] * 3) == [34, 33, 33]
    assert largest_remainder(10, [Decimal("0.1"), Decimal("0.6"), Decimal("0.3")]) == [1, 6, 3]
    assert largest_remainder(5, [Decimal("1"), Decimal("2.4"), Decimal("0.6")]) == [1, 3, 1]


def test_negative_weights_split_exactly_and_whole_cents_come_back_as_they_are():
    assert largest_remainder(375, [Decimal("5.00"), Decimal("-1.25")]) == [500, -125]
    assert largest_remainder(-300, [Decimal(-2), Decimal(-1)]) == [-200, -100]
    shares = largest_remainder(10, [Decimal(7), Decimal(-2), Decimal(1)])
    assert sum(shares) == 10 and shares == [12, -3, 1]


def test_months_parse_and_bound_in_utc():
    assert parse_month("2026-10") == date(2026, 10, 1)
    assert month_bounds(date(2026, 12, 1)) == (
        datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("value", ["2026-13", "2026/10", "October", "2026-1-1", ""])
def test_bad_months_name_the_expected_form(value):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(value)


def test_a_period_starts_on_the_first():
    with pytest.raises(ValueError, match="starts on the 1st"):
        month_bounds(date(2026, 10, 2))
