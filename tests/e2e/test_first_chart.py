"""In a real browser, a fresh session on the overview: the Plotly chunk is fetched from the
page's start (a modulepreload link, fleetspend/ui/assets.py), the lower charts are drawn only
after the charts at the top were painted, and every chart is drawn in the end; a click on a
chart drawn later still opens the explorer (fleetspend/ui/charts.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"
TOP = ("overview_top_app", "overview_top_region", "overview_top_preset")
LATER = ("overview_daily", "overview_treemap", "overview_map")
# per chart: the animation frame in which its SVG was first seen (a frame's callbacks run
# just before it is painted) and the frame count when its SVG was inserted; the time the
# websocket was opened
WATCH = """
(() => {
  const seen = window.chartSeenInFrame = {}, inserted = window.chartInsertedAt = {};
  let frame = 0;
  const look = (into) => document.querySelectorAll('[class*="st-key-overview_"]').forEach(
    (element) => {
      const key = [...element.classList].find((name) => name.startsWith("st-key-")).slice(7);
      if (!(key in into) && element.querySelector(".main-svg")) into[key] = frame;
    });
  const tick = () => { frame += 1; look(seen); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new MutationObserver(() => look(inserted)).observe(document, {childList: true, subtree: true});
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) { super(...args); window.socketAt ??= performance.now(); }
  };
})();
"""


def _fresh_overview(page, base: str) -> None:
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    page.context.add_init_script(WATCH)
    page.goto(base)  # the overview is the default page
    expect(page.get_by_role("heading", name="Spend overview", level=1)).to_be_visible(
        timeout=60_000)


def test_lower_charts_are_drawn_after_the_top_ones_are_painted_and_plotly_comes_first(
        start_app, page, demo_database_url):
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    _fresh_overview(page, base)
    page.wait_for_function(f"Object.keys(window.chartSeenInFrame).length == {len(TOP + LATER)}",
                           timeout=60_000)
    seen = page.evaluate("window.chartSeenInFrame")
    inserted = page.evaluate("window.chartInsertedAt")
    painted_top = max(seen[key] for key in TOP)
    # each lower chart reached the page after the frame that painted the top charts
    assert all(inserted[key] >= painted_top for key in LATER), (seen, inserted)
    # the Plotly chunk was asked for by the page itself, before the websocket opened
    assert page.locator('link[rel="modulepreload"][href*="/PlotlyChart."]').count() == 1
    plotly_at = page.evaluate("performance.getEntriesByType('resource').find("
                              "(entry) => entry.name.includes('/PlotlyChart.')).startTime")
    assert plotly_at < page.evaluate("window.socketAt")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_click_on_a_chart_drawn_later_opens_the_explorer(start_app, page,
                                                           demo_database_url):
    _fresh_overview(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"))
    daily = page.locator(".st-key-overview_daily")
    bar = daily.locator(".trace.bars").first.locator(".point path").last  # the latest day
    expect(bar).to_be_visible(timeout=60_000)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible(
        timeout=30_000)
    expect(page).to_have_url(re.compile(r"grain=day"))
    expect(page.get_by_test_id("stException")).to_have_count(0)
