"""The overview's treemap is read and drawn only once its expander is opened
(pages/overview.py): a session's first run draws the other charts and sends the expander
closed and empty, without reading the treemap's rows."""

from __future__ import annotations

import json

from fleetspend.db import recording
from fleetspend.ui import overview_views as views
from queries import catalog
from tests.app.conftest import drawn_charts

TREEMAP_QUERY = catalog()["spend_by_team_app_preset"].lstrip().splitlines()[0]

OTHERS = {"overview_top_app", "overview_top_region", "overview_top_preset",
          views.DAILY_CHART_KEY, views.MAP_CHART_KEY}


def _charts(app) -> set[str]:
    """The keys of the charts drawn (a chart's id ends with its key)."""
    return {key for element_id, _ in drawn_charts(app)
            for key in OTHERS | {views.TREEMAP_CHART_KEY} if element_id.endswith(f"-{key}")}


def _reads_treemap(snapshots) -> bool:
    return any(statement.lstrip().startswith(TREEMAP_QUERY)
               for snapshot in snapshots for statement, _ in snapshot.statements)


def test_the_treemap_is_read_and_drawn_once_its_expander_is_opened(open_page, spend_url):
    with recording() as snapshots:
        app = open_page(spend_url, "overview").run()
    assert not app.exception, app.exception
    assert _charts(app) == OTHERS
    assert snapshots and not _reads_treemap(snapshots)
    expander = next(block for block in app.expander if block.label == "By team, app and VM size")
    assert not expander.proto.expanded and not expander.children
    app.session_state[views.TREEMAP_OPEN_KEY] = True  # what opening it in the browser sends
    with recording() as snapshots:
        app.run()
    assert _reads_treemap(snapshots)
    assert not app.exception, app.exception
    assert _charts(app) == OTHERS | {views.TREEMAP_CHART_KEY}
    expander = next(block for block in app.expander if block.label == "By team, app and VM size")
    assert expander.proto.expanded


def test_the_first_charts_are_drawn_with_partial_bundles_and_the_treemap_by_streamlit(
        open_page, spend_url):
    """Bars and the map go to the app's chart component (a quarter of plotly.js to load
    before the first chart), the treemap, which no partial bundle holds, to st.plotly_chart."""
    app = open_page(spend_url, "overview").run()
    app.session_state[views.TREEMAP_OPEN_KEY] = True
    app.run()
    assert not app.exception, app.exception
    bundles = {key: json.loads(element.proto.json)["bundle"]
               for element in app.get("bidi_component")
               for key in OTHERS if element.proto.id.endswith(f"-{key}")}
    assert bundles == {**dict.fromkeys(OTHERS - {views.MAP_CHART_KEY}, "basic"),
                       views.MAP_CHART_KEY: "geo"}
    [treemap] = app.get("plotly_chart")
    assert treemap.proto.id.endswith(f"-{views.TREEMAP_CHART_KEY}")
