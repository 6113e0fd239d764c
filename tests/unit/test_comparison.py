"""A period against the one before it: like with like, and said so when the data is missing."""

from datetime import date
from decimal import Decimal

from fleetspend.reads.comparison import PeriodComparison

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


def test_two_covered_periods_compare_their_totals():
    compared = PeriodComparison(*OCTOBER, first_usage_date=date(2026, 1, 1))
    assert compared.is_like_for_like and compared.note is None
    assert compared.change_percent(11_000, 10_000) == Decimal("10.0")
    assert compared.delta_text(11_000, 10_000) == "+10.0%"
    assert compared.label == "Previous 31 days"


def test_a_previous_period_that_starts_before_the_data_compares_per_day_and_says_so():
    # usage starts Sep 28: the previous 31 days hold 3 days of data, October all 31
    compared = PeriodComparison(*OCTOBER, first_usage_date=date(2026, 9, 28))
    assert not compared.is_like_for_like
    assert compared.previous_covered_days == 3 and compared.covered_days == 31
    # $310 over 31 days against $30 over 3: $10 a day both, no change (the totals say +933%)
    assert compared.change_percent(31_000, 3_000) == Decimal("0.0")
    assert compared.delta_text(31_000, 3_000) == "+0.0% per day"
    assert compared.note.startswith("Incomplete comparison: usage starts on Sep 28, 2026, so "
                                    "the previous period has 3 days of data out of 31")


def test_a_previous_period_without_any_data_is_not_compared():
    compared = PeriodComparison(*OCTOBER, first_usage_date=date(2026, 10, 5))
    assert compared.change_percent(31_000, 0) is None
    assert compared.delta_text(31_000, 0) is None
    assert "nothing to compare with" in compared.note


def test_one_day_reads_as_the_previous_day():
    assert PeriodComparison(date(2026, 10, 1), date(2026, 10, 2), None).label == "Previous day"
