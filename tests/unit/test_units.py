"""Invoice quantities and unit prices read in human units at a sensible precision."""

from decimal import Decimal

import pytest

from fleetspend import units


@pytest.mark.parametrize(("quantity", "unit", "expected"), [
    (Decimal("662192027"), "second", "183,942.23 hours"),
    (Decimal("-172800"), "second", "-48.00 hours"),
    (Decimal("5943.463831"), "GB", "5,943.46 GB"),
    (Decimal("0.000002700617283951"), "GB-month", "0.00000270 GB-month"),
    (Decimal("0"), "GB", "0 GB"),
])
def test_quantities_read_in_hours_with_two_decimals_or_three_significant_digits(
        quantity, unit, expected):
    assert units.quantity_text(quantity, unit) == expected


@pytest.mark.parametrize(("price", "unit", "expected"), [
    (Decimal("0.00000075"), "second", "$0.0027 / hour"),
    (Decimal("0.000277824"), "second", "$1.000166 / hour"),
    (Decimal("0.15"), "GB-month", "$0.15 / GB-month"),
    (Decimal("2"), "IP-month", "$2.00 / IP-month"),
])
def test_unit_prices_read_per_hour_with_at_most_six_decimals(price, unit, expected):
    assert units.unit_price_text(price, unit) == expected


def test_counts_take_the_singular_for_one():
    assert units.plural(1, "app") == "1 app"
    assert units.plural(3, "app") == "3 apps"
    assert units.plural(1200, "machine or volume", "machines and volumes") == (
        "1,200 machines and volumes")
