"""The spend overview's way into the explorer: a click on one of its charts (or a pick from
the keyboard) opens the explorer filtered to what was hit, a level down."""

from __future__ import annotations

import streamlit as st

from fleetspend import spend
from fleetspend.ui import charts, url_state

EXPLORER = "pages/explorer.py"
TOP_CHART_KEY = "overview_top_{dimension}"
DAILY_CHART_KEY = "overview_daily"
MAP_CHART_KEY = "overview_map"
TOP_DIMENSIONS = ("app", "region", "preset")


def drill(params: dict[str, str]) -> None:
    """Open the explorer at ``params`` (the organization in view carried along)."""
    st.switch_page(EXPLORER, query_params={**url_state.frame_params(), **params})


def drill_into_month(now: spend.AsOf, dimension: str, key: str) -> None:
    """Open the explorer on this month, filtered to one value and a level down."""
    drill({"from": now.month_start.isoformat(), "to": now.last_day.isoformat(),
           "grain": "day", dimension: key, "by": spend.DRILL_CHILD[dimension]})


def drill_on_selection(now: spend.AsOf) -> None:
    """A click on a chart of the previous run opens the explorer filtered to what was hit."""
    for dimension in TOP_DIMENSIONS:
        keys = charts.selected_keys(st.session_state.get(TOP_CHART_KEY.format(
            dimension=dimension)))
        if keys:
            drill_into_month(now, dimension, keys[0])
    keys = charts.selected_keys(st.session_state.get(MAP_CHART_KEY))
    if keys:
        drill_into_month(now, "region", keys[0])
    keys = charts.selected_keys(st.session_state.get(DAILY_CHART_KEY))
    if keys:
        drill({"from": keys[0], "to": keys[0], "grain": "day", "by": "app"})
