"""The app's chart component (fleetspend/ui/plotly_chart): which plotly.js bundle draws which
figure, and the vendored bundles are the plotly.js that plotly.py writes figures for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.offline
import pytest

from fleetspend.ui import charts

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "fleetspend" / "ui" / "plotly_chart"


@pytest.mark.parametrize(("figure", "bundle"), [
    (go.Figure(go.Bar(x=["a"], y=[1])), "basic"),
    (go.Figure([go.Bar(x=["a"], y=[1]), go.Scatter(x=["a"], y=[2])]), "basic"),
    (px.timeline(x_start=["2026-11-01"], x_end=["2026-11-02"], y=["a"]), "basic"),
    (go.Figure(), "basic"),
    (go.Figure(go.Scattergeo(lat=[50.1], lon=[8.7])), "geo"),
    (go.Figure([go.Scattergeo(lat=[50.1], lon=[8.7]), go.Bar(x=["a"], y=[1])]), None),
    (go.Figure(go.Treemap(ids=["a"], labels=["a"], parents=[""])), None),
])
def test_each_figure_goes_to_the_bundle_that_draws_all_its_traces(figure, bundle):
    assert charts.bundle_for(figure) == bundle


def test_the_vendored_bundles_are_the_plotly_js_plotly_py_writes_for():
    version = plotly.offline.get_plotlyjs_version()
    script = (CHART_DIR / "plotly_chart.js").read_text()
    named = dict(re.findall(r'(\w+): "(plotly-\w+-[0-9.]+\.min\.js)"', script))
    assert set(named) == set(charts.BUNDLES)
    for bundle, file_name in named.items():
        head = (CHART_DIR / file_name).read_text()[:200]
        assert f"plotly.js ({bundle} - minified) v{version}" in head, file_name
        assert file_name == f"plotly-{bundle}-{version}.min.js"


def test_streamlit_finds_the_component_where_its_files_are():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [component] = project["tool"]["streamlit"]["component"]["components"]
    assert component["name"] == "plotly_chart"
    assert (ROOT / "fleetspend" / component["asset_dir"]) == CHART_DIR


def test_the_region_map_shows_the_whole_world_however_few_regions_have_spend():
    """plotly.js 4 (the geo bundle) fits a map to its points unless told not to: an
    organization in four regions would see a zoomed-in patch, not the world."""
    regions = pd.DataFrame({"latitude": [39.0, -33.9], "longitude": [-77.5, 151.2],
                            "region_code": ["iad", "syd"], "city": ["Ashburn", "Sydney"],
                            "continent": ["North America", "Oceania"],
                            "amount_cents": [100, 50]})
    figure = charts.region_map(regions)
    assert charts.bundle_for(figure) == "geo"
    assert figure.layout.geo.fitbounds is False
