"""In a real browser, a fresh session on the overview: every chart but the treemap is drawn
(Plotly), the page as served does not preload the Plotly chunk (fleetspend/ui/assets.py: a
preload delayed the heading and the first chart in session 9's A/B), and the treemap is drawn
once its expander is opened."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"


def test_every_chart_but_the_treemap_is_drawn_without_a_preload(start_app, page,
                                                                demo_database_url):
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    page.goto(base)  # the overview is the default page
    expect(page.get_by_role("heading", name="Spend overview", level=1)).to_be_visible(
        timeout=60_000)
    for key in ("overview_top_app", "overview_top_region", "overview_top_preset",
                "overview_daily", "overview_map"):
        expect(page.locator(f".st-key-{key} .main-svg").first).to_be_visible(timeout=60_000)
    # Streamlit's bundler links the Plotly chunk itself once the first chart is on its way
    assert "PlotlyChart." not in page.request.get(base).text()
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
