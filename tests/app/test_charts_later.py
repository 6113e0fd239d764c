"""The overview's lower charts are drawn later (fleetspend/ui/charts.py): a session's first
run sends the charts at the top and keeps the others' places; its next run draws them all."""

from __future__ import annotations

from tests.app.conftest import as_read

TOP = {"overview_top_app", "overview_top_region", "overview_top_preset"}
LATER = {"overview_daily", "overview_treemap", "overview_map"}


def _charts(app) -> set[str]:
    """The keys of the charts drawn (a chart's id ends with its key)."""
    return {key for chart in app.get("plotly_chart") for key in TOP | LATER
            if chart.proto.id.endswith(f"-{key}")}


def test_the_first_run_draws_the_top_charts_and_the_next_run_every_chart(open_page, spend_url):
    app = open_page(spend_url, "overview").run()
    assert not app.exception, app.exception
    assert _charts(app) == TOP
    assert "By region" in [as_read(header.value) for header in app.subheader]
    app.run()
    assert not app.exception, app.exception
    assert _charts(app) == TOP | LATER
