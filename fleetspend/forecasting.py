"""The forecast to month end: the spend so far plus the recent daily rate over the time the
month has left; its range uses the slowest and fastest 7-day stretch of the last four weeks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fleetspend.money import to_cents


@dataclass(frozen=True)
class Forecast:
    """Spend expected by month end, in cents, with a low-high range."""

    expected_cents: int
    low_cents: int
    high_cents: int
    basis_days: int  # complete days the daily rate was taken from


def forecast_month(spent_so_far: Decimal, daily_amounts: Sequence[Decimal],
                   remaining_days: Decimal) -> Forecast | None:
    """Spend so far plus the recent daily rate over the days left; None without history.

    ``daily_amounts`` are the complete days before "now", oldest first (up to 28 are used).
    The expected rate is the mean of the last 7; the range uses the slowest and fastest
    7-day stretch among the last 28 days.
    """
    history = list(daily_amounts)[-28:]
    if remaining_days < 0:
        raise ValueError("the days left in a month cannot be negative")
    if remaining_days == 0:
        cents = to_cents(spent_so_far)
        return Forecast(cents, cents, cents, len(history))
    if len(history) < 7:
        return None
    week_means = [sum(history[i:i + 7], Decimal(0)) / 7 for i in range(len(history) - 6)]
    expected_rate = week_means[-1]
    low_rate, high_rate = min(week_means), max(week_means)
    return Forecast(
        expected_cents=to_cents(spent_so_far + expected_rate * remaining_days),
        low_cents=to_cents(spent_so_far + low_rate * remaining_days),
        high_cents=to_cents(spent_so_far + high_rate * remaining_days),
        basis_days=len(history),
    )
