"""What "now" is for spend figures: where the usage feed stands (usage complete through, from
the rollups), never the wall clock. The demo data ends on a fixed day, and a feed that is hours
behind must not make today look cheap; :func:`as_of` derives the month in progress, the last
day counted and how much of the month is left from that instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fleetspend.partitions import next_month

DAY = timedelta(days=1)
SECONDS_PER_DAY = Decimal(86400)


@dataclass(frozen=True)
class AsOf:
    """The month in progress as the usage feed sees it (``through_at`` is exclusive)."""

    through_at: datetime
    month_start: date
    next_month_start: date
    last_day: date  # the last day any usage is counted for
    is_last_day_complete: bool

    @property
    def month_days(self) -> int:
        return (self.next_month_start - self.month_start).days

    @property
    def remaining_days(self) -> Decimal:
        """Days (with fractions) from ``through_at`` to the end of the month."""
        end = datetime.combine(self.next_month_start, datetime.min.time(), tzinfo=UTC)
        return Decimal((end - self.through_at).total_seconds()) / SECONDS_PER_DAY


def as_of(through_at: datetime) -> AsOf:
    """The month in progress and the last day counted, from "usage complete through"."""
    if through_at.tzinfo is None:
        raise ValueError("usage complete through must be a timezone-aware UTC instant")
    through_at = through_at.astimezone(UTC)
    last_instant = through_at - timedelta(microseconds=1)
    last_day = last_instant.date()
    month_start = last_day.replace(day=1)
    return AsOf(
        through_at=through_at,
        month_start=month_start,
        next_month_start=next_month(month_start),
        last_day=last_day,
        is_last_day_complete=through_at.time() == datetime.min.time(),
    )
