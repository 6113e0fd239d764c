"""Plotly figures for the spend pages; every clickable point carries its entity key.

Money arrives as integer cents (or hundredths of a unit) and is divided by 100 only here, for
drawing; the hover text shows the exact formatted amount. Each point's ``customdata`` is the
key of what it stands for (an app id, a region code, a day), so a selection maps to an
entity, never by matching x or y values. Maps use plain geographic projections: no map tiles
are fetched. Every name drawn goes through :func:`fleetspend.ui.untrusted.plot`, so a
customer's name never acts as Plotly's HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from fleetspend.ui.format import dollars
from fleetspend.ui.untrusted import plot

SELECT_LAYOUT = {"clickmode": "event+select", "dragmode": False}


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
    figure = go.Figure(go.Bar(
        y=[plot(label) for label in labels], x=[c / 100 for c in cents], orientation="h",
        customdata=[[key] for key in keys],
        text=[f"{dollars(c)} · {p}%" for c, p in zip(cents, percents, strict=True)],
        hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    figure.update_layout(title=title, height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         yaxis={"autorange": "reversed"}, xaxis={"tickprefix": "$"},
                         **SELECT_LAYOUT)
    return figure


def daily_bars(days: Sequence, cents: Sequence[int], flagged: set) -> go.Figure:
    """Spend per day; days with an anomaly are drawn in a warning colour."""
    colors = ["#d62728" if day in flagged else "#1f77b4" for day in days]
    figure = go.Figure(go.Bar(
        x=list(days), y=[c / 100 for c in cents], marker_color=colors,
        customdata=[[day.isoformat()] for day in days],
        text=[dollars(c) for c in cents], textposition="none",
        hovertemplate="%{x|%a %b %d}: %{text}<extra></extra>",
    ))
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         yaxis={"tickprefix": "$"}, **SELECT_LAYOUT)
    return figure


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
    figure = go.Figure(go.Treemap(
        ids=ids, labels=[plot(nodes[node][0]) for node in ids],
        parents=[nodes[node][1] for node in ids], values=[v / 100 for v in values],
        branchvalues="total", text=[dollars(v) for v in values],
        hovertemplate="%{label}: %{text}<extra></extra>", textinfo="label+text",
    ))
    figure.update_layout(height=420, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return figure


def region_map(frame: pd.DataFrame) -> go.Figure:
    """Regions as bubbles sized by spend (columns of the spend_by_region_located query)."""
    cents = frame.amount_cents.tolist()
    biggest = max(cents, default=1) or 1
    figure = go.Figure(go.Scattergeo(
        lat=[float(v) for v in frame.latitude], lon=[float(v) for v in frame.longitude],
        customdata=[[code] for code in frame.region_code],
        text=[plot(f"{city} ({code}), {continent}: {dollars(c)}") for city, code, continent, c in
              zip(frame.city, frame.region_code, frame.continent, cents, strict=True)],
        hovertemplate="%{text}<extra></extra>", mode="markers",
        marker={"size": [8 + 42 * (c / biggest) ** 0.5 for c in cents], "color": "#1f77b4",
                "opacity": 0.7, "line": {"width": 1, "color": "white"}},
    ))
    figure.update_geos(projection_type="natural earth", showcountries=True,
                       showland=True, landcolor="#f0f0f0", countrycolor="#cccccc")
    figure.update_layout(height=380, margin={"l": 0, "r": 0, "t": 0, "b": 0}, **SELECT_LAYOUT)
    return figure


def stacked(cells: pd.DataFrame, order: Sequence[str], labels: Mapping[str, str], unit: str,
            grain: str) -> go.Figure:
    """One stacked bar series per key in ``order`` (cells: period, series key, hundredths)."""
    figure = go.Figure()
    prefix = "$" if unit == "USD" else ""
    for key in order:
        rows = cells[cells.series_key == key]
        shown = [dollars(h) if unit == "USD" else f"{h / 100:,.2f} {unit}"
                 for h in rows.hundredths]
        figure.add_trace(go.Bar(
            x=list(rows.period_start_date), y=[h / 100 for h in rows.hundredths],
            name=plot(labels[key]), customdata=[[key] for _ in range(len(rows))], text=shown,
            textposition="none", hovertemplate="%{fullData.name}, %{x}: %{text}<extra></extra>",
        ))
    figure.update_layout(barmode="stack", height=420, legend={"orientation": "h", "y": -0.15},
                         margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         yaxis={"tickprefix": prefix}, xaxis={"title": f"{grain} starting"},
                         **SELECT_LAYOUT)
    return figure


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
