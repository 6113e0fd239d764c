"""The usage explorer's reads, URL state, controls, and the table and exports under its chart
(the page, pages/explorer.py, draws).

The view lives in the URL: :func:`read_state` reads it (bad values fall back to defaults with
a notice), the controls write each change back to it and a click on a series (:func:`drill`)
writes the next view. Dimensions, their filters and where a click leads come from the
registry (fleetspend.reads.dimensions); measures too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from fleetspend import clock
from fleetspend.reads import exports, freshness, usage_explorer
from fleetspend.reads.dimensions import DIMENSIONS, GRAINS, MEASURES, NO_DIMENSION
from fleetspend.ui import access, database, tables, url_state
from fleetspend.ui.drilldown import csv_download
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

KEY = "explorer_"
CHART_KEY = f"{KEY}chart"
DEFAULT_DAYS = 30
DEFAULT_TOP = 8
MAX_TOP = 50
ALL_SERIES = 0  # top=0: the "other" bucket expanded


@database.loader(ttl=60, max_entries=64)
def load_context(connection: Connection, org_id: int) -> tuple[
        dict[str, dict[str, str]], date | None, freshness.Freshness, date | None, date | None]:
    """The values of each dimension, "now", their freshness, and the first and the last day
    with usage in the rollups (the freshness and the days in one statement)."""
    values = usage_explorer.read_dimension_values(connection, org_id)
    org = freshness.read_org_freshness(connection, org_id)
    through = org.fresh.usage_complete_through_at
    last_day = None if through is None else clock.as_of(through).last_day
    return values, last_day, org.fresh, org.first_usage_date, org.last_usage_date


@database.loader(ttl=60, max_entries=256)
def load_series(connection: Connection, org_id: int, query: usage_explorer.ExplorerQuery,
                compare: bool, top: int | None, latest: date | None) -> tuple[
        usage_explorer.Series, dict[str, int] | None]:
    """The view's series and, when comparing, the previous period's totals (``latest``: the
    last day with usage in the rollups, from :func:`load_context`)."""
    series = usage_explorer.build_series(usage_explorer.read_cells(connection, org_id, query, top,
                                                 latest_usage_day=latest))
    if not compare or series.table.empty:
        return series, None
    return series, usage_explorer.read_previous_totals(connection, org_id, query, series, top,
                                              latest_usage_day=latest)


def read_state(values: dict[str, dict[str, str]], last_day: date) -> tuple[dict, list[str]]:
    """The view from the URL, each bad parameter replaced by its default."""
    reader = url_state.ParamReader(st.query_params.to_dict())
    earliest = date(2000, 1, 1)
    state: dict[str, Any] = {
        "measure": reader.choice("measure", MEASURES, "spend"),
        "by": reader.choice("by", DIMENSIONS, "app"),
        "by2": reader.choice("by2", [*DIMENSIONS, NO_DIMENSION], NO_DIMENSION),
        "grain": reader.choice("grain", GRAINS, "day"),
        "from": reader.day("from", last_day - timedelta(days=DEFAULT_DAYS - 1), earliest,
                           last_day),
        "to": reader.day("to", last_day, earliest, last_day),
        "top": reader.integer("top", DEFAULT_TOP, 0, MAX_TOP),
        "compare": reader.flag("compare", True),
    }
    if state["by2"] == state["by"]:
        reader.notices.append("Ignored by2: it repeats by; showing one dimension.")
        state["by2"] = NO_DIMENSION
    if state["to"] < state["from"]:
        reader.notices.append("Ignored the date range: it ends before it starts; showing the "
                              f"last {DEFAULT_DAYS} days.")
        state["from"], state["to"] = last_day - timedelta(days=DEFAULT_DAYS - 1), last_day
    for dimension in DIMENSIONS:
        state[dimension] = reader.keys(dimension, values.get(dimension, {}))
    return state, reader.notices


def to_query(state: dict) -> usage_explorer.ExplorerQuery:
    """The question the view in ``state`` asks."""
    return usage_explorer.ExplorerQuery(
        measure=state["measure"], dimension_1=state["by"], dimension_2=state["by2"],
        grain=state["grain"], start_date=state["from"],
        end_date=state["to"] + timedelta(days=1),
        filters=tuple((d, state[d]) for d in DIMENSIONS if state[d]))


def go(state: dict) -> None:
    """Show ``state``: the URL is the source of truth, so write it and run again."""
    url_state.write(state)
    st.rerun()


def drilled(state: dict, key: str) -> dict:
    """The view a click on the series ``key`` leads to: "other" expanded, or filtered to the
    series' values and grouped by the first dimension's next one down."""
    if key == usage_explorer.OTHER_KEY:
        return {**state, "top": ALL_SERIES}
    new = dict(state)
    for dimension, value in zip([state["by"], state["by2"]], key.split("|"), strict=False):
        new[dimension] = (value,)
    return {**new, "by": DIMENSIONS[state["by"]].drill_child, "by2": NO_DIMENSION,
            "top": DEFAULT_TOP}


def _named_by(names: dict[str, str]) -> Callable[[str], str]:
    """A filter's label for a key: its name, or the key itself when it has none (any more)."""
    return lambda key: names.get(key, key)


def widget_changed(name: str) -> None:
    """A control changed: put its new value into the URL (before the page runs again)."""
    value = st.session_state[KEY + name]
    if name == "dates":
        if len(value) != 2:
            return
        st.query_params["from"], st.query_params["to"] = (day.isoformat() for day in value)
        return
    st.query_params[name] = url_state.encode(value)


def controls(state: dict, values: dict[str, dict[str, str]]) -> None:
    """The view's controls, each showing the URL's value and writing back to it on change."""
    for name in ("measure", "by", "by2", "grain", "compare"):
        st.session_state[KEY + name] = state[name]
    st.session_state[KEY + "dates"] = (state["from"], state["to"])
    columns = st.columns([2, 2, 2, 1, 3])
    columns[0].selectbox("Show", list(MEASURES), key=KEY + "measure",
                         format_func=lambda m: MEASURES[m].label,
                         on_change=widget_changed, args=("measure",))
    columns[1].selectbox("Group by", list(DIMENSIONS), key=KEY + "by",
                         format_func=lambda d: DIMENSIONS[d].title, on_change=widget_changed,
                         args=("by",))
    columns[2].selectbox("Then by", [NO_DIMENSION, *DIMENSIONS], key=KEY + "by2",
                         format_func=lambda d: "nothing" if d == NO_DIMENSION else (
                             DIMENSIONS[d].title), on_change=widget_changed, args=("by2",))
    columns[3].selectbox("Per", list(GRAINS), key=KEY + "grain", on_change=widget_changed,
                         args=("grain",))
    columns[4].date_input("Dates (UTC, inclusive)", key=KEY + "dates",
                          on_change=widget_changed, args=("dates",))
    # the filters are made only while open or in use: six lists of every app, team, region
    # and size took the browser 60 ms of a fresh view's first chart (docs/scaling.md,
    # session 14)
    in_use = sum(1 for name in DIMENSIONS if state[name])
    filters = st.expander(f"Filters ({in_use} in use)" if in_use else "Filters",
                          expanded=in_use > 0, key=KEY + "filters", on_change="rerun")
    if filters.open or in_use:
        with filters:
            filter_columns = st.columns(3)
            for index, dimension in enumerate(DIMENSIONS.values()):
                options = values.get(dimension.name, {})
                st.session_state[KEY + dimension.name] = list(state[dimension.name])
                filter_columns[index % 3].multiselect(
                    dimension.title, list(options), key=KEY + dimension.name,
                    format_func=_named_by(options), on_change=widget_changed,
                    args=(dimension.name,))
    st.toggle("Compare with the period before", key=KEY + "compare", on_change=widget_changed,
              args=("compare",))


def table_with_csv(state: dict, table: pd.DataFrame) -> None:
    """The view's table (it adds up to the chart) and its CSV."""
    st.dataframe(table, hide_index=True, column_config=tables.column_config(table),
                 placeholder="")
    csv_download("Download this table (CSV)", table, key=KEY + "csv",
                 file_name=f"fleetspend-{state['measure']}-{state['from']}-{state['to']}.csv")


def focus_export(visit: access.Visit, state: dict) -> None:
    """The FOCUS export of the months the view's dates touch, made only once opened (a run of
    the page then) and asked for."""
    export = st.expander("FOCUS 1.2 cost and usage export", key=KEY + "focus_open",
                         on_change="rerun")
    if not export.open:
        return
    with export:
        st.caption("Every charge of the months these dates touch, by resource; invoiced months "
                   "from the invoices (BilledCost adds up to them), the month in progress from "
                   "its upcoming invoice (from usage once newer usage has landed), marked "
                   "x_IsEstimated.")
        if st.button("Prepare the FOCUS export", key=KEY + "focus"):
            with st.spinner("Building the export"), database_errors_stop_the_page(
                    "the FOCUS export"):
                focus = database.read(visit, exports.focus_export, visit.org_in_view,
                                      state["from"], state["to"])
            csv_download("Download FOCUS CSV", focus, key=KEY + "focus_csv",
                         file_name=f"focus-{state['from']}-{state['to']}.csv")
            st.caption(md_format("{rows:,} rows, BilledCost {cost:,.2f} USD.", rows=len(focus),
                                 cost=sum(focus.BilledCost, Decimal(0))))
