"""Money: integer cents and exact Decimals, rounded once, split exactly, shown as dollars.

Amounts are integer cents, or Decimal dollars before their one rounding (:func:`to_cents`,
half up). Splits that must add up (allocations, chart cells, shares) use
:func:`largest_remainder`. Core and the pages both format through here, so core never needs
the UI to say an amount.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def to_cents(amount: Decimal) -> int:
    """An unrounded dollar amount rounded once, half up, to integer cents."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(cents: int | Decimal) -> str:
    """Integer cents (or a Decimal number of cents) as a dollar amount, e.g. 123456 -> $1,234.56."""
    value = (Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def dollars_exact(cents: int) -> Decimal:
    """Integer cents as an exact Decimal of dollars with two places, for tables and CSV."""
    return Decimal(int(cents)).scaleb(-2)


def change_percent(now_cents: int, before_cents: int) -> Decimal | None:
    """The change from ``before_cents`` to ``now_cents`` in percent (one decimal), or None."""
    if before_cents == 0:
        return None
    return (Decimal(now_cents - before_cents) * 100 / before_cents).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def shares(amounts: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Each amount's share of ``total`` in percent with two decimals, half up."""
    if total == 0:
        return [Decimal(0) for _ in amounts]
    return [(amount * 100 / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for amount in amounts]


def largest_remainder(total_cents: int, weights: Sequence[Decimal]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` (Decimals) exactly.

    Ties in the fractional parts go to the earlier weight, as the SQL version breaks them by
    resource id when the weights are given in resource id order. Billing's weights are never
    negative; a page's can be (a month whose invoice carries a downward adjustment, see
    fleetspend/figures.py), and the rule holds for them too: the shares add up to the total,
    each within a cent of its proportional one, and weights in whole cents that add up to the
    total come back as they are.
    """
    weight_total = sum(weights, Decimal(0))
    if weight_total == 0:
        return [0] * len(weights)
    shares = [total_cents * weight / weight_total for weight in weights]
    floors = [math.floor(share) for share in shares]
    leftover = total_cents - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for index in order[:leftover]:
        floors[index] += 1
    return floors
