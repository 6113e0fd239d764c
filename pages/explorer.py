"""Usage explorer: spend or usage by one or two dimensions, per day, week or month.

Every choice lives in the URL (a copied link reproduces the view; bad values fall back to
defaults with a notice). The stacked chart keeps the biggest series and folds the rest into
"other", which a click expands; a click on any other series filters to it and groups by the
next dimension down. The table adds up to the chart exactly, and exports as CSV as shown.
"""

import streamlit as st

from fleetspend.reads import comparison
from fleetspend.reads.dimensions import MEASURES
from fleetspend.ui import access, charts, frame, tables, url_state
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.explorer import (
    ALL_SERIES,
    CHART_KEY,
    DEFAULT_TOP,
    KEY,
    controls,
    drilled,
    focus_export,
    go,
    load_context,
    load_series,
    read_state,
    table_with_csv,
    to_query,
)
from fleetspend.ui.untrusted import md_format

visit = access.require(access.USAGE, "explorer")
st.title("Usage explorer")

with st.spinner("Loading"), database_errors_stop_the_page("the explorer"):
    values, last_day, fresh, first_day, last_usage_day = load_context(visit, visit.org_in_view)
last_day = frame.stop_without_usage(last_day, fresh)

state, notices = read_state(values, last_day)
url_state.write(state)
url_state.copy_link()
url_state.show_notices(notices)

picked = charts.selected_keys(st.session_state.get(CHART_KEY))
if picked:
    del st.session_state[CHART_KEY]
    go(drilled(state, picked[0]))

controls(state, values)
query = to_query(state)
top = None if state["top"] == ALL_SERIES else state["top"]
with st.spinner("Adding up usage"), database_errors_stop_the_page("the explorer"):
    series, previous = load_series(visit, visit.org_in_view, query, state["compare"], top,
                                   last_usage_day)

label, unit = MEASURES[state["measure"]].label, MEASURES[state["measure"]].unit
if series.table.empty:
    st.info("Nothing to show for this selection: no usage of this kind in these dates and "
            "filters.", icon=":material/filter_alt_off:")
    st.caption(fresh.describe())
    st.stop()

compared = comparison.PeriodComparison(query.start_date, query.end_date, first_day)
table = tables.explorer_table(series, unit, previous, compared)

metric_columns = st.columns(3)
metric_columns[0].metric(md_format("{label}, {start} to {end}", label=label,
                                   start=state["from"], end=state["to"]),
                         tables.show_hundredths(series.total_hundredths, unit))
if previous is not None:
    before = sum(previous.values())
    metric_columns[1].metric(compared.label, tables.show_hundredths(before, unit),
                             delta=compared.delta_text(series.total_hundredths, before),
                             delta_color="off", help=compared.note)
    if compared.note:
        st.caption(compared.note)
if series.hidden and metric_columns[2].button(
        md_format("Show all {count} series", count=len(series.table) - 1 + series.hidden),
        key=KEY + "expand"):
    go({**state, "top": ALL_SERIES})
can_fold = state["top"] == ALL_SERIES and len(series.table) > DEFAULT_TOP + 1
if can_fold and metric_columns[2].button("Fold small series into other", key=KEY + "fold"):
    go({**state, "top": DEFAULT_TOP})

order = list(series.table.series_key)
labels = dict(zip(series.table.series_key, series.table.series_label, strict=True))
charts.draw(charts.stacked(series.cells, order, labels, unit, state["grain"],
                           (state["from"], state["to"])), key=CHART_KEY, clickable=True)
st.caption("Click a series to filter to it and look one level down; click \"Other\" to "
           "expand it. A month with an invoice shows that invoice's cents, at any grouping "
           "and day; a month not yet invoiced is an estimate.")

charts.below_the_charts(lambda: table_with_csv(state, table), key=KEY + "below")
if visit.may(access.BILLING):
    focus_export(visit, state)
st.caption(fresh.describe())
