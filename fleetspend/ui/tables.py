"""Tables the spend pages show and export: exact amounts as Decimal, shares that add up.

The table a page shows is the table its CSV download holds, column for column, so an export
is exactly what is on screen.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from fleetspend.spend import Series
from fleetspend.ui.format import dollars

TOTAL_LABEL = "Total"


def show_hundredths(hundredths: int, unit: str) -> str:
    """Integer hundredths as displayed: dollars for USD, else the number with its unit."""
    if unit == "USD":
        return dollars(hundredths)
    return f"{Decimal(hundredths) / 100:,.2f} {unit}"


def _exact(hundredths: int) -> Decimal:
    return Decimal(hundredths) / 100


def explorer_table(series: Series, unit: str,
                   previous: dict[str, int] | None) -> pd.DataFrame:
    """One row per series and a total row; values and shares add up to the total exactly.

    With ``previous`` (the period before, by series key) it adds the previous value and the
    change in percent.
    """
    value_column = f"Total ({unit})"
    rows = pd.DataFrame({
        "Series": series.table.series_label,
        "Key": series.table.series_key,
        value_column: [_exact(h) for h in series.table.hundredths],
        "Share (%)": [_exact(b) for b in series.table.share_basis_points],
    })
    total = {"Series": TOTAL_LABEL, "Key": "", value_column: _exact(series.total_hundredths),
             "Share (%)": Decimal("100.00") if series.total_hundredths else Decimal("0.00")}
    if previous is not None:
        before = [previous.get(key, 0) for key in series.table.series_key]
        rows[f"Previous ({unit})"] = [_exact(h) for h in before]
        rows["Change (%)"] = [_change(now, was) for now, was in
                              zip(series.table.hundredths, before, strict=True)]
        total_before = sum(previous.values())
        total[f"Previous ({unit})"] = _exact(total_before)
        total["Change (%)"] = _change(series.total_hundredths, total_before)
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)


def _change(now: int, was: int) -> Decimal | None:
    if was == 0:
        return None
    return (Decimal(int(now) - int(was)) * 100 / int(was)).quantize(Decimal("0.1"))
