"""A period against the one of equal length just before it, honest about missing data.

A change in percent between two totals is only fair when both periods are wholly covered by
the organization's usage. When either starts before the first day with usage (a new
organization, the seed's first month), the totals compare days with data against days
without: "up 1551%" says nothing. Then the comparison is of like with like, the average
per day over the days each period has data for, and the wording says so. A period with no
day of data at all is not compared.

Importable without Streamlit; money stays integer cents (or hundredths of a unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fleetspend.units import plural


@dataclass(frozen=True)
class PeriodComparison:
    """Days [start_date, end_date) against the same number of days just before."""

    start_date: date
    end_date: date  # exclusive
    first_usage_date: date | None  # the organization's first day with usage

    @property
    def days(self) -> int:
        """The length of each period in days."""
        return (self.end_date - self.start_date).days

    def _covered(self, start: date, end: date) -> int:
        """Days of [start, end) on or after the first day with usage."""
        if self.first_usage_date is None:
            return 0
        return max(0, (end - max(start, self.first_usage_date)).days)

    @property
    def covered_days(self) -> int:
        """Days of this period on or after the first day with usage."""
        return self._covered(self.start_date, self.end_date)

    @property
    def previous_covered_days(self) -> int:
        """Days of the previous period on or after the first day with usage."""
        return self._covered(self.start_date - (self.end_date - self.start_date),
                             self.start_date)

    @property
    def is_like_for_like(self) -> bool:
        """Both periods wholly within the usage: their totals compare directly."""
        return self.covered_days == self.days and self.previous_covered_days == self.days

    @property
    def label(self) -> str:
        """What the previous figure is: "Previous 30 days", "Previous day"."""
        return "Previous day" if self.days == 1 else f"Previous {self.days} days"

    @property
    def note(self) -> str | None:
        """Why the totals do not compare directly, or None when they do."""
        if self.is_like_for_like:
            return None
        if self.first_usage_date is None or self.previous_covered_days == 0:
            return ("The previous period has no usage (it is before this organization's "
                    "first day with usage), so there is nothing to compare with.")
        first = f"{self.first_usage_date:%b %d, %Y}"
        return (f"Incomplete comparison: usage starts on {first}, so the previous period has "
                f"{plural(self.previous_covered_days, 'day')} of data out of {self.days} "
                f"and this one {self.covered_days}; the change compares the average per day "
                "with data.")

    def change_percent(self, now: int, before: int) -> Decimal | None:
        """The change in percent (one decimal) from ``before`` to ``now``: of the totals when
        both periods are covered, else of the averages per day with data; None when there is
        nothing to compare with."""
        if self.is_like_for_like:
            now_rate, before_rate = Decimal(now), Decimal(before)
        elif self.previous_covered_days and self.covered_days:
            now_rate = Decimal(now) / self.covered_days
            before_rate = Decimal(before) / self.previous_covered_days
        else:
            return None
        if before_rate == 0:
            return None
        return ((now_rate - before_rate) * 100 / before_rate).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)

    def delta_text(self, now: int, before: int) -> str | None:
        """The change as a metric's delta: "+12.3%", "+12.3% per day"; None without one."""
        change = self.change_percent(now, before)
        if change is None:
            return None
        return f"{change:+}%" + ("" if self.is_like_for_like else " per day")
