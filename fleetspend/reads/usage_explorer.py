"""The usage explorer's read: query rows turned into stacked-chart cells whose displayed values
(integer hundredths: cents, or hundredths of a unit) are split from the exact total by largest
remainder, so chart cells, table rows and the total add up exactly as shown. Series beyond the
top ones are folded into "other" by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection

from fleetspend.money import largest_remainder, to_cents
from fleetspend.reads.dimensions import DIMENSIONS, GRAINS, MEASURES, NO_DIMENSION, daily_source
from fleetspend.reads.readmodels import last_usage_date, read_frame, whole_months
from queries import sql

OTHER_KEY = "__other__"


@dataclass(frozen=True)
class ExplorerQuery:
    """What the explorer shows; validated by the page's URL state before it gets here."""

    measure: str
    dimension_1: str
    dimension_2: str
    grain: str
    start_date: date
    end_date: date  # exclusive
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, keys), sorted

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {self.measure!r}")
        if self.dimension_1 not in DIMENSIONS:
            raise ValueError(f"dimension_1 must be one of {', '.join(DIMENSIONS)}")
        if self.dimension_2 not in (*DIMENSIONS, NO_DIMENSION) or (
                self.dimension_2 == self.dimension_1):
            raise ValueError("dimension_2 must be another dimension or 'none'")
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}; got {self.grain!r}")
        if self.end_date <= self.start_date:
            raise ValueError(f"empty date range: {self.start_date} to {self.end_date}")
        for dimension, _keys in self.filters:
            if dimension not in DIMENSIONS:
                raise ValueError(f"cannot filter on {dimension!r}")

    @property
    def previous(self) -> ExplorerQuery:
        """The range of the same length just before this one, for totals per series only.

        Its grain is the month, so whole months come from the monthly rollup.
        """
        length = self.end_date - self.start_date
        return ExplorerQuery(self.measure, self.dimension_1, self.dimension_2, "month",
                             self.start_date - length, self.start_date, self.filters)

    def params(self, org_id: int, last_usage_date: date | None = None) -> dict:
        """The query's parameters; ``last_usage_date`` as in :func:`whole_months`."""
        if self.grain == "month":
            whole_from, whole_until = whole_months(self.start_date, self.end_date,
                                                   last_usage_date)
        else:
            whole_from = whole_until = self.end_date
        filters = dict(self.filters)
        keyed = {dimension.filter_param: dimension.bind(filters.get(name))
                 for name, dimension in DIMENSIONS.items()}
        source = daily_source({self.dimension_1, self.dimension_2, *filters},
                              needs_products=MEASURES[self.measure].needs_products,
                              reads_teams=True)
        return {"org_id": org_id, "start_date": self.start_date, "end_date": self.end_date,
                "grain": self.grain, "whole_from": whole_from, "whole_until": whole_until,
                "daily_source": source, "measure": self.measure, "dimension_1": self.dimension_1,
                "dimension_2": self.dimension_2, **keyed}


@dataclass(frozen=True)
class Series:
    """The explorer's stacked series: chart cells and table rows in integer hundredths."""

    cells: pd.DataFrame  # period_start_date, series_key, series_label, hundredths
    table: pd.DataFrame  # series_key, series_label, hundredths, share_basis_points
    total_hundredths: int
    hidden: int  # how many series the "other" bucket holds


def read_cells(connection: Connection, org_id: int, query: ExplorerQuery, top: int | None, *,
               latest_usage_day: date | None = None, with_cells: bool = True) -> pd.DataFrame:
    """The rows of queries/explorer_series.sql: the series kept, then the chart's cells, the
    biggest ``top`` series kept and the rest folded into "other" by the database (None keeps
    every series); ``with_cells=False``: the series and their totals alone.

    ``latest_usage_day``: the organization's latest day with usage, when the caller has
    read it in this snapshot (None: looked up here).
    """
    short_way = _short_way(query, top) if with_cells else None
    if query.grain == "month" or short_way:
        latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    params = {**query.params(org_id, latest_usage_day), "top": top, "with_cells": with_cells}
    if short_way:
        whole_from, whole_until = whole_months(query.start_date, query.end_date,
                                               latest_usage_day)
        return read_frame(connection, short_way,
                          {**params, "months_from": whole_from, "months_until": whole_until})
    return read_frame(connection, "explorer_series", params)


def _short_way(query: ExplorerQuery, top: int | None) -> str | None:
    """The query that answers ``query`` the short way, reading the kept series' own rows and
    "other" as the organization's total minus them, if one does: spend with no filter, per
    day or week, some series folded, by app alone (queries/explorer_top_apps.sql, the
    explorer's default view) or by team and region (queries/explorer_top_team_regions.sql)."""
    if _is_top_apps(query, top):
        return "explorer_top_apps"
    if (query.measure == "spend" and {query.dimension_1, query.dimension_2} == {"team", "region"}
            and not query.filters and query.grain != "month" and top is not None):
        return "explorer_top_team_regions"
    return None


def _is_top_apps(query: ExplorerQuery, top: int | None) -> bool:
    """Whether queries/explorer_top_apps.sql answers ``query``: spend by app alone, per day or
    week, with no filter, some series folded (the explorer's default view)."""
    return (query.measure == "spend" and query.dimension_1 == "app"
            and query.dimension_2 == NO_DIMENSION and not query.filters
            and query.grain != "month" and top is not None)


def _hundredths(values: Sequence[Decimal]) -> tuple[int, list[int]]:
    """The exact total rounded once to hundredths, split over ``values`` by largest remainder."""
    total = sum(values, Decimal(0))
    total_hundredths = to_cents(total)
    return total_hundredths, largest_remainder(total_hundredths, list(values))


def build_series(rows: pd.DataFrame) -> Series:
    """Stack the rows of :func:`read_cells`: the kept series biggest first, "other" last.

    The measure's exact total is rounded once to hundredths (cents for spend) and split over
    the chart cells by largest remainder, in the order the database gives them (by period,
    then by series key); table rows are sums of their cells, so the table, its total and the
    chart agree exactly, and shares (basis points) add up to 100%.
    """
    kept = rows[rows.kind == "series"]
    cells = rows[rows.kind == "cell"]
    if cells.empty:
        return Series(
            pd.DataFrame(columns=["period_start_date", "series_key", "series_label",
                                  "hundredths"]),
            pd.DataFrame(columns=["series_key", "series_label", "hundredths",
                                  "share_basis_points"]), 0, 0)
    hidden = int(kept.hidden.iloc[0])
    labels = dict(zip(kept.series_key, kept.series_label, strict=True))
    order = [*kept.series_key, *([OTHER_KEY] if hidden else [])]
    labels[OTHER_KEY] = f"Other ({hidden})"
    total, split = _hundredths(list(cells.quantity))
    chart = pd.DataFrame({"period_start_date": list(cells.period_start_date),
                          "series_key": list(cells.series_key),
                          "series_label": [labels[key] for key in cells.series_key],
                          "hundredths": split})
    sums = dict.fromkeys(order, 0)
    for key, hundredths in zip(chart.series_key, split, strict=True):
        sums[key] += hundredths
    shares = largest_remainder(10_000, [Decimal(sums[key]) for key in order]) if total else [
        0] * len(order)
    table = pd.DataFrame({"series_key": order, "series_label": [labels[k] for k in order],
                          "hundredths": [sums[k] for k in order],
                          "share_basis_points": shares})
    chart = chart.sort_values(["period_start_date", "series_key"]).reset_index(drop=True)
    return Series(chart, table, total, hidden)


def previous_totals(rows: pd.DataFrame, series: Series) -> dict[str, int]:
    """The previous period's totals in hundredths under this view's series (others in other),
    from that period's :func:`read_cells` with every series kept (cells not needed)."""
    totals = rows[rows.kind == "series"]
    if totals.empty:
        return {}
    known = set(series.table.series_key)
    keys = totals.series_key.where(totals.series_key.isin(known),
                                   OTHER_KEY if OTHER_KEY in known else totals.series_key)
    grouped = pd.DataFrame({"series_key": keys, "value": totals.quantity}).groupby(
        "series_key")["value"].sum()
    _total, split = _hundredths(list(grouped))
    return dict(zip(grouped.index, split, strict=True))


def read_previous_totals(connection: Connection, org_id: int, query: ExplorerQuery,
                         series: Series, top: int | None, *,
                         latest_usage_day: date | None = None) -> dict[str, int]:
    """The previous period's totals under ``series`` (the view of ``query`` with ``top``
    series kept), as :func:`previous_totals` gives them. The explorer's default question with
    some series folded reads the kept apps' totals and "other" as the organization's total
    minus them (queries/explorer_top_apps_previous.sql); any other reads every series."""
    previous = query.previous
    latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    if not (_is_top_apps(query, top) and series.hidden):
        return previous_totals(read_cells(connection, org_id, previous, None,
                                          latest_usage_day=latest_usage_day,
                                          with_cells=False), series)
    params = previous.params(org_id, latest_usage_day)
    kept = [int(key) for key in series.table.series_key if key != OTHER_KEY]
    return previous_totals(read_frame(connection, "explorer_top_apps_previous", {
        "org_id": org_id, "start_date": previous.start_date, "end_date": previous.end_date,
        "whole_from": params["whole_from"], "whole_until": params["whole_until"],
        "app_ids": kept}), series)


def read_dimension_values(connection: Connection, org_id: int) -> dict[str, dict[str, str]]:
    """Each dimension's keys in the organization mapped to their labels."""
    values: dict[str, dict[str, str]] = {dimension: {} for dimension in DIMENSIONS}
    for row in connection.execute(sql("org_dimension_values"), {"org_id": org_id}):
        values[row.dimension][row.key] = row.label
    return values
