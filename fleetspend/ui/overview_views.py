"""The spend overview's read, and its way into the explorer: a click on one of its charts (or
a pick from the keyboard) opens the explorer filtered to what was hit, a level down."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from fleetspend import clock
from fleetspend.reads import freshness, spend_overview
from fleetspend.reads.dimensions import DIMENSIONS
from fleetspend.ui import charts, database, url_state

EXPLORER = "pages/explorer.py"
TOP_CHART_KEY = "overview_top_{dimension}"
DAILY_CHART_KEY = "overview_daily"
MAP_CHART_KEY = "overview_map"
TREEMAP_CHART_KEY = "overview_treemap"
# the expander the treemap is drawn in once opened (its state: this session's, not the URL's)
TREEMAP_OPEN_KEY = "overview_treemap_open"
TOP_DIMENSIONS = ("app", "region", "preset")


@database.loader(ttl=60, max_entries=64)
def load(connection: Connection, org_id: int, may_see_invoices: bool) -> tuple[
        spend_overview.Overview, freshness.Freshness]:
    """The overview's figures and their freshness, in one snapshot (the freshness and the
    usage high mark the figures start from in one statement)."""
    fresh = freshness.read_org_freshness(connection, org_id).fresh
    overview = spend_overview.read_overview_through(
        connection, org_id, fresh.usage_complete_through_at, may_see_invoices=may_see_invoices)
    return overview, fresh


@database.loader(ttl=60, max_entries=64)
def load_treemap(connection: Connection, org_id: int, month_start: date) -> pd.DataFrame:
    """The treemap's boxes, read only once its expander is opened (4-5 ms at the large scale,
    the overview's costliest read, for a chart most views never open)."""
    return spend_overview.read_treemap(connection, org_id, month_start)


def drill(params: dict[str, str]) -> None:
    """Open the explorer at ``params`` (the organization in view carried along)."""
    st.switch_page(EXPLORER, query_params={**url_state.frame_params(), **params})


def drill_into_month(now: clock.AsOf, dimension: str, key: str) -> None:
    """Open the explorer on this month, filtered to one value and a level down."""
    drill({"from": now.month_start.isoformat(), "to": now.last_day.isoformat(),
           "grain": "day", dimension: key, "by": DIMENSIONS[dimension].drill_child})


def drill_on_selection(now: clock.AsOf) -> None:
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
