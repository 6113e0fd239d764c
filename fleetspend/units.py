"""Quantities and unit prices as a finance team reads them: hours rather than seconds, with
a sensible number of decimals.

Invoice lines keep the price book's units (machine runtime by the second, IPv4 by the
IP-month, storage by the GB-month, transfer by the GB) and their exact NUMERIC quantity and
unit price. For people, runtime reads in hours (quantity / 3600, price x 3600: the same
amount); amounts of one or more show two decimals, smaller ones three significant digits, and
unit prices show up to six decimals (never fewer than two), so nothing rounds to a
misleading zero. Counts take the singular for one (:func:`plural`).
"""

from __future__ import annotations

from decimal import Decimal

# pricing unit -> (the unit people read, how many pricing units make one of it)
READABLE_UNITS: dict[str, tuple[str, int]] = {"second": ("hours", 3600)}
PRICE_DECIMALS = 6


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` with its noun, singular for one: "1 app", "3 apps", "1,200 machines"."""
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {noun}"


def readable_unit(unit: str) -> str:
    """The unit a quantity in ``unit`` is shown in: "hours" for "second"."""
    return READABLE_UNITS.get(unit, (unit, 1))[0]


def amount_text(value: Decimal) -> str:
    """A quantity with separators: two decimals from one up, else three significant digits."""
    value = Decimal(value)
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    decimals = max(2, -value.adjusted() + 2)
    return f"{value:,.{decimals}f}"


def quantity_text(quantity: Decimal, unit: str) -> str:
    """An invoice line's quantity in readable units, e.g. "1,204.50 hours", "12.00 GB"."""
    readable, per = READABLE_UNITS.get(unit, (unit, 1))
    return f"{amount_text(Decimal(quantity) / per)} {readable}"


def unit_price_text(price: Decimal, unit: str) -> str:
    """A unit price per readable unit, e.g. "$0.0027 / hour", "$0.15 / GB-month"."""
    readable, per = READABLE_UNITS.get(unit, (unit, 1))
    value = (Decimal(price) * per).quantize(Decimal(1).scaleb(-PRICE_DECIMALS)).normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:  # a finite price: never 'n', 'N' or 'F'
        value = value.quantize(Decimal("0.01"))
    singular = readable[:-1] if readable.endswith("hours") else readable
    return f"${value:,f} / {singular}"
