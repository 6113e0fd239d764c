"""Formatting exact money and counts for display; money arrives as integer cents or Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def dollars(cents: int | Decimal) -> str:
    """Integer cents (or a Decimal number of cents) as a dollar amount, e.g. 123456 -> $1,234.56."""
    value = (Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
