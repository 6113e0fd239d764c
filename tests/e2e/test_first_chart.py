"""In a real browser, a fresh session on the overview: the Plotly chunk is asked for by the
page itself (a modulepreload link, fleetspend/ui/assets.py), before the websocket opens, and
every chart but the treemap is drawn; the treemap once its expander is opened."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"
# the time the websocket was opened
WATCH = """
(() => {
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) { super(...args); window.socketAt ??= performance.now(); }
  };
})();
"""


def test_the_plotly_chunk_is_fetched_before_the_websocket_opens(start_app, page,
                                                                 demo_database_url):
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    page.context.add_init_script(WATCH)
    page.goto(base)  # the overview is the default page
    expect(page.get_by_role("heading", name="Spend overview", level=1)).to_be_visible(
        timeout=60_000)
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first.locator(".main-svg").first).to_be_visible(timeout=60_000)
    assert page.locator('link[rel="modulepreload"][href*="/PlotlyChart."]').count() == 1
    plotly_at = page.evaluate("performance.getEntriesByType('resource').find("
                              "(entry) => entry.name.includes('/PlotlyChart.')).startTime")
    assert plotly_at < page.evaluate("window.socketAt")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_treemap_is_drawn_once_its_expander_is_opened(start_app, page, demo_database_url):
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    page.goto(base)
    daily = page.locator(".st-key-overview_daily .main-svg").first
    expect(daily).to_be_visible(timeout=60_000)
    treemap = page.locator(".st-key-overview_treemap")
    expect(treemap).to_have_count(0)
    page.get_by_text("By team, app and VM size").click()
    expect(treemap.locator(".main-svg").first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
