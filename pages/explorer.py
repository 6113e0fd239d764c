"""Usage explorer: spend or usage by one or two dimensions, per day, week or month.

Every choice lives in the URL (a copied link reproduces the view; bad values fall back to
defaults with a notice). The stacked chart keeps the biggest series and folds the rest into
"other", which a click expands; a click on any other series filters to it and groups by the
next dimension down. The table adds up to the chart exactly, and exports as CSV as shown.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import streamlit as st

from fleetspend import comparison, csvfile, db, exports, freshness, spend
from fleetspend.readmodels import DIMENSIONS, GRAINS, NO_DIMENSION, last_usage_date
from fleetspend.ui import access, charts, database, frame, tables, url_state
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

KEY = "explorer_"
CHART_KEY = f"{KEY}chart"
DEFAULT_DAYS = 30
DEFAULT_TOP = 8
MAX_TOP = 50
ALL_SERIES = 0  # top=0: the "other" bucket expanded


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def load_context(scope: db.Scope, org_id: int) -> tuple[dict[str, dict[str, str]], date | None,
                                                        freshness.Freshness, date | None]:
    """The values of each dimension, "now", their freshness and the first day with usage."""
    with db.read_snapshot(scope) as snapshot:
        values = spend.read_dimension_values(snapshot.connection, org_id)
        fresh = freshness.read_freshness(snapshot.connection, org_id)
        through = fresh.usage_complete_through_at
        last_day = None if through is None else spend.as_of(through).last_day
        return values, last_day, fresh, comparison.first_usage_date(snapshot.connection, org_id)


@st.cache_data(ttl=60, max_entries=256, show_spinner=False)
def load_series(scope: db.Scope, org_id: int, query: spend.ExplorerQuery, compare: bool,
                top: int | None) -> tuple[spend.Series, dict[str, int] | None]:
    """The view's series and, when comparing, the previous period's totals, one snapshot."""
    with db.read_snapshot(scope) as snapshot:
        latest = last_usage_date(snapshot.connection, org_id)
        series = spend.build_series(spend.read_cells(snapshot.connection, org_id, query, top,
                                                     latest_usage_day=latest))
        if not compare or series.table.empty:
            return series, None
        return series, spend.read_previous_totals(snapshot.connection, org_id, query, series,
                                                  top, latest_usage_day=latest)


def read_state(values: dict[str, dict[str, str]], last_day: date) -> tuple[dict, list[str]]:
    """The view from the URL, each bad parameter replaced by its default."""
    reader = url_state.ParamReader(st.query_params.to_dict())
    earliest = date(2000, 1, 1)
    state: dict[str, Any] = {
        "measure": reader.choice("measure", spend.MEASURES, "spend"),
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


def to_query(state: dict) -> spend.ExplorerQuery:
    return spend.ExplorerQuery(
        measure=state["measure"], dimension_1=state["by"], dimension_2=state["by2"],
        grain=state["grain"], start_date=state["from"],
        end_date=state["to"] + timedelta(days=1),
        filters=tuple((d, state[d]) for d in DIMENSIONS if state[d]))


def go(state: dict) -> None:
    """Show ``state``: the URL is the source of truth, so write it and run again."""
    url_state.write(state)
    st.rerun()


def drill(state: dict, key: str) -> None:
    """Filter to the series clicked and group by the next dimension down; expand "other"."""
    if key == spend.OTHER_KEY:
        go({**state, "top": ALL_SERIES})
    parts = key.split("|")
    new = dict(state)
    for dimension, value in zip([state["by"], state["by2"]], parts, strict=False):
        new[dimension] = (value,)
    child = spend.DRILL_CHILD[state["by"]]
    new["by"] = child
    new["by2"] = NO_DIMENSION
    new["top"] = DEFAULT_TOP
    go(new)


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
    st.session_state[KEY + "measure"] = state["measure"]
    st.session_state[KEY + "by"] = state["by"]
    st.session_state[KEY + "by2"] = state["by2"]
    st.session_state[KEY + "grain"] = state["grain"]
    st.session_state[KEY + "dates"] = (state["from"], state["to"])
    st.session_state[KEY + "compare"] = state["compare"]
    columns = st.columns([2, 2, 2, 1, 3])
    columns[0].selectbox("Show", list(spend.MEASURES), key=KEY + "measure",
                         format_func=lambda m: spend.MEASURES[m][0],
                         on_change=widget_changed, args=("measure",))
    columns[1].selectbox("Group by", list(DIMENSIONS), key=KEY + "by",
                         format_func=DIMENSIONS.__getitem__, on_change=widget_changed,
                         args=("by",))
    columns[2].selectbox("Then by", [NO_DIMENSION, *DIMENSIONS], key=KEY + "by2",
                         format_func=lambda d: "nothing" if d == NO_DIMENSION else DIMENSIONS[d],
                         on_change=widget_changed, args=("by2",))
    columns[3].selectbox("Per", list(GRAINS), key=KEY + "grain", on_change=widget_changed,
                         args=("grain",))
    columns[4].date_input("Dates (UTC, inclusive)", key=KEY + "dates",
                          on_change=widget_changed, args=("dates",))
    with st.expander("Filters", expanded=any(state[d] for d in DIMENSIONS)):
        filter_columns = st.columns(3)
        for index, dimension in enumerate(DIMENSIONS):
            options = values.get(dimension, {})
            st.session_state[KEY + dimension] = list(state[dimension])
            filter_columns[index % 3].multiselect(
                DIMENSIONS[dimension], list(options), key=KEY + dimension,
                format_func=_named_by(options), on_change=widget_changed,
                args=(dimension,))
    st.toggle("Compare with the period before", key=KEY + "compare", on_change=widget_changed,
              args=("compare",))


visit = access.require(access.USAGE, "explorer")
st.title("Usage explorer")

with st.spinner("Loading"), database_errors_stop_the_page("the explorer"):
    values, last_day, fresh, first_day = load_context(visit.scope(), visit.org_in_view)
last_day = frame.stop_without_usage(last_day, fresh)

state, notices = read_state(values, last_day)
url_state.write(state)
url_state.copy_link()
url_state.show_notices(notices)

picked = charts.selected_keys(st.session_state.get(CHART_KEY))
if picked:
    del st.session_state[CHART_KEY]
    drill(state, picked[0])

controls(state, values)
query = to_query(state)
top = None if state["top"] == ALL_SERIES else state["top"]
with st.spinner("Adding up usage"), database_errors_stop_the_page("the explorer"):
    series, previous = load_series(visit.scope(), visit.org_in_view, query, state["compare"], top)

label, unit = spend.MEASURES[state["measure"]]
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

st.dataframe(table, hide_index=True, column_config=tables.column_config(table), placeholder="")
st.download_button("Download this table (CSV)", csvfile.to_csv(table),
                   file_name=f"fleetspend-{state['measure']}-{state['from']}-{state['to']}.csv",
                   mime="text/csv", key=KEY + "csv")
if visit.may(access.BILLING):
    with st.expander("FOCUS 1.2 cost and usage export"):
        st.caption("Every charge of the months these dates touch, by resource; invoiced months "
                   "from the invoices (BilledCost adds up to them), the month in progress from "
                   "its upcoming invoice (from usage once newer usage has landed), marked "
                   "x_IsEstimated.")
        if st.button("Prepare the FOCUS export", key=KEY + "focus"):
            with st.spinner("Building the export"), database_errors_stop_the_page(
                    "the FOCUS export"):
                focus = database.read(visit, exports.focus_export, visit.org_in_view,
                                      state["from"], state["to"])
            st.download_button("Download FOCUS CSV", csvfile.to_csv(focus),
                               file_name=f"focus-{state['from']}-{state['to']}.csv",
                               mime="text/csv", key=KEY + "focus_csv")
            st.caption(md_format("{rows:,} rows, BilledCost {cost:,.2f} USD.", rows=len(focus),
                                 cost=sum(focus.BilledCost, Decimal(0))))
st.caption(fresh.describe())
