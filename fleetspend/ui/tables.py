"""Tables the spend pages show and export: exact amounts as Decimal, shares that add up.

The table a page shows is the table its CSV download holds, column for column, so an export
is exactly what is on screen: amounts as Decimals with two decimals (the CSV writes
``27540.10`` under a header naming the currency; the screen draws ``$27,540.10``), no
internal keys. :func:`column_config` says how each column is drawn.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from fleetspend.money import dollars
from fleetspend.reads.comparison import PeriodComparison
from fleetspend.reads.usage_explorer import Series

TOTAL_LABEL = "Total"
CENT = Decimal("0.01")


def show_hundredths(hundredths: int, unit: str) -> str:
    """Integer hundredths as displayed: dollars for USD, else the number with its unit."""
    if unit == "USD":
        return dollars(hundredths)
    return f"{Decimal(hundredths) / 100:,.2f} {unit}"


def _exact(hundredths: int) -> Decimal:
    return (Decimal(int(hundredths)) / 100).quantize(CENT)


def column_config(table: pd.DataFrame) -> dict:
    """How the columns of a table from this module are drawn: dollars with separators for
    "(USD)" columns, other amounts with separators and two decimals, percents with one or
    two decimals."""
    config = {}
    for name in table.columns:
        if name.endswith("(USD)"):
            config[name] = st.column_config.NumberColumn(name, format="dollar")
        elif name == "Change (%)":
            config[name] = st.column_config.NumberColumn(name, format="%+.1f%%")
        elif name.endswith("(%)"):
            config[name] = st.column_config.NumberColumn(name, format="%.2f%%")
        elif name.endswith(")"):
            config[name] = st.column_config.NumberColumn(name, format="%,.2f")
    return config


def like_for_like(table: pd.DataFrame, compared: PeriodComparison) -> pd.DataFrame:
    """A side-by-side table (Spend and Previous period in USD) whose "Change (%)" compares as
    ``compared`` says: per day with data when either period starts before the usage."""
    if compared.is_like_for_like:
        return table
    return table.assign(**{"Change (%)": [
        compared.change_percent(int(now * 100), int(was * 100)) for now, was in
        zip(table["Spend (USD)"], table["Previous period (USD)"], strict=True)]})


def explorer_table(series: Series, unit: str,
                   previous: dict[str, int] | None,
                   compared: PeriodComparison | None = None) -> pd.DataFrame:
    """One row per series and a total row; values and shares add up to the total exactly.

    With ``previous`` (the period before, by series key) it adds the previous value and the
    change in percent, compared as ``compared`` says (per day with data when either period
    starts before the usage).
    """
    value_column = f"Total ({unit})"
    rows = pd.DataFrame({
        "Series": series.table.series_label,
        value_column: [_exact(h) for h in series.table.hundredths],
        "Share (%)": [_exact(b) for b in series.table.share_basis_points],
    })
    total = {"Series": TOTAL_LABEL, value_column: _exact(series.total_hundredths),
             "Share (%)": _exact(10_000 if series.total_hundredths else 0)}
    if previous is not None:
        if compared is None:
            raise ValueError("comparing with the previous period needs its PeriodComparison")
        before = [previous.get(key, 0) for key in series.table.series_key]
        rows[f"Previous ({unit})"] = [_exact(h) for h in before]
        rows["Change (%)"] = [compared.change_percent(int(now), int(was)) for now, was in
                              zip(series.table.hundredths, before, strict=True)]
        total_before = sum(previous.values())
        total[f"Previous ({unit})"] = _exact(total_before)
        total["Change (%)"] = compared.change_percent(series.total_hundredths, total_before)
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)
