"""Plotly figures for the spend pages; every clickable point carries its entity key.

Money arrives as integer cents (or hundredths of a unit) and is divided by 100 only here, for
drawing; the hover text shows the exact formatted amount. Each point's ``customdata`` is the
key of what it stands for (an app id, a region code, a day), so a selection maps to an
entity, never by matching x or y values. Maps use plain geographic projections: no map tiles
are fetched, and the world outline comes from the app itself (``static/topojson``, served by
Streamlit's static file serving), never from a CDN at view time. Every name drawn goes through
:func:`fleetspend.ui.untrusted.plot`, so a customer's name never acts as Plotly's HTML.

Series get colours from one qualitative palette long enough that no two series of a chart
share one (grey is kept for "Other", red for anomalies; Plotly Express's default too, instead
of the placeholder colours of Streamlit's default template, which only ``st.plotly_chart``
replaces); legends sit above the plot, clear of the axis titles; :func:`draw` shows every
figure without Plotly's toolbar.

Each figure is built in one go, from its traces and layout as plain dicts (plotly.py validates
them once): adding traces one at a time and calling ``update_layout`` ran plotly.py's
validators and relayout machinery again at each step, 30 ms for the explorer's default chart
instead of 7, while the page's first chart waited for it (docs/scaling.md, session 14).

Bars, lines and maps are drawn by the app's own component (``plotly_chart/``) with plotly.js's
partial bundles, a quarter of the full plotly.js that ``st.plotly_chart`` makes a fresh
browser load and compile before its first chart (docs/scaling.md, session 12); anything else
(the treemap) by ``st.plotly_chart``. Streamlit finds the component through pyproject.toml's
``[tool.streamlit.component]``, so the project must be installed (``uv run`` does it).

A fresh browser builds every element of a page's run in one go and only then runs plotly.js
and draws the first chart; a table below the fold (the explorer's: Streamlit's data grid
fetched, compiled and laid out) kept that chart waiting 200 ms. :func:`below_the_charts`
has such content wait for the charts instead, the first time a session shows them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io.json
import streamlit as st
from streamlit.components.v2.types import ComponentRenderer

from fleetspend.anomaly_search import Anomaly
from fleetspend.money import dollars
from fleetspend.partitions import next_month
from fleetspend.reads.usage_explorer import OTHER_KEY
from fleetspend.ui.untrusted import plot
from fleetspend.units import plural

SELECT_LAYOUT = {"clickmode": "event+select", "dragmode": False}
# where the browser fetches map outlines: the app's own static files (static/topojson),
# relative to the page so that a server path prefix is kept
TOPOJSON_URL = "app/static/topojson/"
# no toolbar (it covers charts on phones); maps read their outline from the app
PLOT_CONFIG = {"displayModeBar": False, "topojsonURL": TOPOJSON_URL}
# 48 distinct colours (Plotly's Dark24 then Light24) without red and grey
SERIES_COLOURS = [colour for colour in (*px.colors.qualitative.Dark24,
                                        *px.colors.qualitative.Light24)
                  if colour not in ("#FB0D0D", "#FD3216", "#222A2A", "#B2828D")]
# Plotly Express's series take them too (its default, from Streamlit's default template, is
# placeholders that only st.plotly_chart swaps for the theme's)
px.defaults.color_discrete_sequence = SERIES_COLOURS
OTHER_COLOUR = "#9e9e9e"
SPEND_COLOUR = "#1f77b4"
ANOMALY_COLOUR = "#d62728"
# the plotly.js partial bundles the component draws with (fleetspend/ui/plotly_chart), and
# the trace types each holds; the first that holds all of a figure's traces draws it
BUNDLES = {"basic": frozenset({"bar", "scatter", "pie"}),
           "geo": frozenset({"scatter", "scattergeo", "choropleth"})}
# the component's charts' look (plotly.py's "plotly_white", axes and hover labels only; the
# page's font and a transparent background come from plotly_chart.js): axes make room for
# their labels, grid lines are light
_AXIS = {"automargin": True, "gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "ticks": "",
         "zerolinecolor": "#EBF0F8", "zerolinewidth": 2, "title": {"standoff": 15}}
TEMPLATE = {"layout": {"xaxis": _AXIS, "yaxis": _AXIS, "hoverlabel": {"align": "left"}}}
DEFAULT_HEIGHT = 450  # plotly.js's, for a figure that sets none
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
MONTH_LABEL = "%b %Y"
# set once this session's browser has drawn a page's charts (below_the_charts)
CHARTS_DRAWN_KEY = "fleetspend_charts_drawn"


def draw(figure: go.Figure, *, key: str, clickable: bool = False) -> None:
    """Show ``figure`` with the app's Plotly config; ``clickable``: a click reruns the page
    with the point selected (read it with :func:`selected_keys`)."""
    bundle = bundle_for(figure)
    if bundle is None:  # Streamlit's chart, with the whole of plotly.js
        if clickable:
            st.plotly_chart(figure, key=key, config=PLOT_CONFIG, on_select="rerun",
                            selection_mode="points")
        else:
            st.plotly_chart(figure, key=key, config=PLOT_CONFIG)
        return
    spec = figure.to_plotly_json()
    spec["layout"]["template"] = TEMPLATE
    spec["config"] = PLOT_CONFIG
    data = {"figure": plotly.io.json.to_json_plotly(spec), "bundle": bundle,
            "height": figure.layout.height or DEFAULT_HEIGHT, "clickable": clickable}
    if clickable:
        _plotly_chart()(data=data, key=key, on_selection_change=_clicked)
    else:
        _plotly_chart()(data=data, key=key)


@st.fragment
def below_the_charts(show: Callable[[], None], *, key: str) -> None:
    """Run ``show``, which draws what sits below the fold under the page's charts (a big
    table), after those charts: in a session whose browser has drawn no chart yet, a waiter
    of the chart component takes its place and asks for it (a rerun of this fragment) once
    the charts above it are drawn; later runs show it at once. Being a fragment, its rerun
    runs ``show`` alone, outside the page view: ``show`` should draw what it is given, and
    read and change nothing."""
    if st.session_state.get(CHARTS_DRAWN_KEY):
        show()
    else:
        _plotly_chart()(data={"after_charts": True}, key=key, on_drawn_change=_charts_drawn)


def _charts_drawn() -> None:
    st.session_state[CHARTS_DRAWN_KEY] = True


def bundle_for(figure: go.Figure) -> str | None:
    """The partial plotly.js bundle that draws every trace of ``figure``; None: none does."""
    types = {trace.type for trace in figure.data}
    return next((name for name, holds in BUNDLES.items() if types <= holds), None)


@functools.cache
def _plotly_chart() -> ComponentRenderer:
    """The chart component, registered once a server process draws its first chart."""
    return st.components.v2.component("fleetspend.plotly_chart", js="plotly_chart.js",
                                      isolate_styles=False)


def _clicked() -> None:
    """Streamlit reports a component's "selection" trigger only to a callback; there is
    nothing to do in it: the run the click starts reads the selection from the session."""


def keyboard_pick(label: str, labels: Mapping[str, str], *, key: str) -> str | None:
    """The keyboard's way to what a click on a chart opens: a select box of the chart's
    points (key -> label); type to filter, Enter to open. The key chosen, or None."""
    return st.selectbox(label, list(labels), index=None, format_func=labels.__getitem__,
                        key=key, placeholder="Type to search")


def series_colours(keys: Sequence[str]) -> dict[str, str]:
    """A colour per series key, in order; "Other" grey; past 48 series colours repeat."""
    colours, index = {}, 0
    for key in keys:
        if key == OTHER_KEY:
            colours[key] = OTHER_COLOUR
            continue
        colours[key] = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        index += 1
    return colours


def selected_keys(event: Mapping | None) -> list[str]:
    """The customdata keys of the points in a st.plotly_chart selection (state or event)."""
    if not event:
        return []
    selection = event.get("selection") or {}
    keys = []
    for point in selection.get("points", []):
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if data is not None:
            keys.append(str(data))
    return keys


def bar_share(keys: Sequence[str], labels: Sequence[str], cents: Sequence[int],
              percents: Sequence[object], title: str) -> go.Figure:
    """Horizontal bars of the top values, biggest on top, each labelled with its share."""
    return go.Figure({
        "type": "bar", "orientation": "h", "y": [plot(label) for label in labels],
        "x": [c / 100 for c in cents], "customdata": [[key] for key in keys],
        "text": [f"{dollars(c)} · {p}%" for c, p in zip(cents, percents, strict=True)],
        "hovertemplate": "%{y}: %{text}<extra></extra>"}, layout={
        "title": {"text": title}, "height": 260, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "yaxis": {"autorange": "reversed"}, "xaxis": {"tickprefix": "$"}, **SELECT_LAYOUT})


def daily_bars(days: Sequence[date], cents: Sequence[int],
               marks: Mapping[date, tuple[int, str]]) -> go.Figure:
    """Spend per day; on days with an anomaly, the anomalous part of the day (``marks``: day
    -> (cents, what it is)) is stacked in red on the rest, with a legend saying so."""
    marked = [min(int(marks[day][0]), int(c)) if day in marks else 0
              for day, c in zip(days, cents, strict=True)]
    customdata = [[day.isoformat()] for day in days]
    traces = [{
        "type": "bar", "x": list(days), "marker": {"color": SPEND_COLOUR}, "name": "Spend",
        "y": [(c - m) / 100 for c, m in zip(cents, marked, strict=True)],
        "customdata": customdata, "text": [dollars(c) for c in cents], "textposition": "none",
        "hovertemplate": "%{x|%a %b %d}: %{text}<extra></extra>"}]
    if any(marked):
        traces.append({
            "type": "bar", "x": list(days), "marker": {"color": ANOMALY_COLOUR},
            "name": "Anomaly (see the list above)", "y": [m / 100 for m in marked],
            "customdata": customdata, "textposition": "none",
            "text": [plot(f"{marks[day][1]}: {dollars(m)} of {dollars(c)}") if m else ""
                     for day, c, m in zip(days, cents, marked, strict=True)],
            "hovertemplate": "%{x|%a %b %d}, %{text}<extra></extra>"})
    return go.Figure(traces, layout={
        "height": 320, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "barmode": "stack",
        "showlegend": True, "legend": {**LEGEND_ABOVE, "traceorder": "normal"},
        "yaxis": {"tickprefix": "$"}, **SELECT_LAYOUT})


def anomaly_marks(anomalies: Sequence[Anomaly]) -> dict[date, tuple[int, str]]:
    """What the daily chart marks red: per day, the anomalous cents and whose they are."""
    marks: dict[date, tuple[int, str]] = {}
    for anomaly in anomalies:
        for day, cents in anomaly.day_cents:
            was_cents, was_label = marks.get(day, (0, ""))
            label = anomaly.subject if not was_label else f"{was_label}, {anomaly.subject}"
            marks[day] = (was_cents + cents, label)
    return marks


def treemap(frame: pd.DataFrame) -> go.Figure:
    """Spend by team, app and VM size (columns of the spend_by_team_app_preset query).

    Each VM size's cents are rounded once; apps and teams are the sums of their children, so
    every box is exactly the total of the boxes inside it.
    """
    nodes: dict[str, list] = {}  # id -> [label, parent, cents]
    for team_id, team_name, app_id, app_name, preset_key, cents in zip(
            frame.team_id.tolist(), frame.team_name.tolist(), frame.app_id.tolist(),
            frame.app_name.tolist(), frame.preset_key.tolist(), frame.amount_cents.tolist(),
            strict=True):
        team, app = f"team:{team_id}", f"app:{app_id}"
        nodes.setdefault(team, [team_name, "", 0])[2] += cents
        nodes.setdefault(app, [app_name, team, 0])[2] += cents
        nodes[f"{app}/preset:{preset_key}"] = [preset_key, app, cents]
    ids = list(nodes)
    values = [nodes[node][2] for node in ids]
    return go.Figure({
        "type": "treemap", "ids": ids, "labels": [plot(nodes[node][0]) for node in ids],
        "parents": [nodes[node][1] for node in ids], "values": [v / 100 for v in values],
        "branchvalues": "total", "text": [dollars(v) for v in values],
        "hovertemplate": "%{label}: %{text}<extra></extra>", "textinfo": "label+text"}, layout={
        "height": 420, "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
        "treemapcolorway": SERIES_COLOURS})


def region_map(frame: pd.DataFrame) -> go.Figure:
    """Regions as bubbles sized by spend (columns of the spend_by_region_located query)."""
    cents = frame.amount_cents.tolist()
    biggest = max(cents, default=1) or 1
    # the whole world, whichever regions have spend (plotly.js 4 zooms to the bubbles unless
    # told not to)
    return go.Figure({
        "type": "scattergeo", "lat": [float(v) for v in frame.latitude],
        "lon": [float(v) for v in frame.longitude], "mode": "markers",
        "customdata": [[code] for code in frame.region_code],
        "text": [plot(f"{city} ({code}), {continent}: {dollars(c)}") for city, code, continent, c
                 in zip(frame.city, frame.region_code, frame.continent, cents, strict=True)],
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"size": [8 + 42 * (c / biggest) ** 0.5 for c in cents], "color": SPEND_COLOUR,
                   "opacity": 0.7, "line": {"width": 1, "color": "white"}}}, layout={
        "geo": {"fitbounds": False, "projection": {"type": "natural earth"},
                "showcountries": True, "showland": True, "landcolor": "#f0f0f0",
                "countrycolor": "#cccccc"},
        "height": 380, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, **SELECT_LAYOUT})


def period_label(start: date, grain: str, first_day: date | None = None,
                 last_day: date | None = None) -> str:
    """A bar's period as people say it ("Aug 2026", "week of Aug 03"), saying when the dates
    shown (``first_day`` to ``last_day``) cover only part of it: "Aug 2026 (from Aug 28)"."""
    if grain == "day":
        return f"{start:%a %b %d}"
    label = f"{start:{MONTH_LABEL}}" if grain == "month" else f"week of {start:%b %d}"
    end = (next_month(start) if grain == "month" else start + timedelta(days=7)) - timedelta(
        days=1)
    part = []
    if first_day is not None and start < first_day <= end:
        part.append(f"from {first_day:%b %d}")
    if last_day is not None and start <= last_day < end:
        part.append(f"to {last_day:%b %d}")
    return f"{label} ({' '.join(part)})" if part else label


def trend_span(cells: pd.DataFrame, grain: str, asked_from: date, shown_from: date,
               last_day: date) -> str:
    """What a trend chart covers, honestly: how many bars of which periods, which of them are
    partial, and whether the data starts later than the dates asked for."""
    periods = sorted(set(cells.period_start_date))
    if not periods:
        return "No spend in these dates"
    first, last = (period_label(start, grain, shown_from, last_day)
                   for start in (periods[0], periods[-1]))
    span = (f"{plural(len(periods), grain)}: {first} to {last}" if len(periods) > 1
            else f"1 {grain}: {first}")
    if shown_from > asked_from:
        span += f"; usage starts on {shown_from:%b %d, %Y}"
    return span


def stacked(cells: pd.DataFrame, order: Sequence[str], labels: Mapping[str, str], unit: str,
            grain: str, dates: tuple[date, date] | None = None) -> go.Figure:
    """One stacked bar series per key in ``order`` (cells: period, series key, hundredths),
    each in its own colour; months and weeks are labelled as such (partial ones say which
    part of ``dates``, the first and last day shown), days on a date axis."""
    prefix = "$" if unit == "USD" else ""
    colours = series_colours(order)
    bounds = dates or (None, None)
    rows_of = dict(iter(cells.groupby("series_key", sort=False)))
    no_rows = cells.iloc[:0]
    traces = []
    for key in order:
        rows = rows_of.get(key, no_rows)
        hundredths, starts = rows.hundredths.tolist(), rows.period_start_date.tolist()
        traces.append({
            "type": "bar", "marker": {"color": colours[key]}, "name": plot(labels[key]),
            "x": starts if grain == "day" else [period_label(start, grain, *bounds)
                                                for start in starts],
            "y": [h / 100 for h in hundredths], "customdata": [[key]] * len(hundredths),
            "text": [dollars(h) if unit == "USD" else f"{h / 100:,.2f} {unit}"
                     for h in hundredths],
            "textposition": "none",
            "hovertemplate": "%{fullData.name}, %{x}: %{text}<extra></extra>"})
    periods = sorted(set(cells.period_start_date))
    xaxis: dict = {"title": {"text": "Day (UTC)" if grain == "day" else None}}
    if grain != "day":
        xaxis.update(type="category", categoryorder="array",
                     categoryarray=[period_label(start, grain, *bounds) for start in periods])
    return go.Figure(traces, layout={
        "barmode": "stack", "height": 440, "legend": {**LEGEND_ABOVE, "traceorder": "normal"},
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "yaxis": {"tickprefix": prefix},
        "xaxis": xaxis, **SELECT_LAYOUT})


def run_timeline(runs: pd.DataFrame, start: datetime, end: datetime) -> go.Figure:
    """A machine's runs (started_at, ended_at, preset_code, memory_mb) as bars between
    ``start`` and ``end`` (UTC), one row per size; a run still going ends at ``end``."""
    timeline = runs.assign(
        start=runs["started_at"].clip(lower=start),
        end=runs["ended_at"].fillna(end).clip(upper=end),
        size=(runs["preset_code"] + " " + runs["memory_mb"].astype(str) + " MB").map(plot),
    )
    figure = px.timeline(timeline, x_start="start", x_end="end", y="size", color="size",
                         labels={"size": "Size"}, height=220)
    figure.update_layout(showlegend=False, margin={"t": 10, "b": 10}, xaxis_range=[start, end])
    return figure


def hourly_runtime(usage: pd.DataFrame) -> go.Figure:
    """A machine's minutes running per hour (hour_at, runtime_seconds), by preset."""
    chart = usage.assign(runtime_minutes=usage["runtime_seconds"] / 60)
    figure = px.bar(chart, x="hour_at", y="runtime_minutes", color="preset_code", height=260,
                    labels={"hour_at": "Hour (UTC)", "runtime_minutes": "Minutes running",
                            "preset_code": "Preset"})
    figure.update_layout(margin={"t": 10, "b": 10})
    return figure
