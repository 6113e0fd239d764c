"""In a real browser: from the spend overview, a click on a bar opens the explorer filtered to
it, and that view's URL opened in a new tab shows the same view.

Signs in through the local OpenID Connect provider (tests/e2e/test_sign_in.py), whose session
cookie a second tab shares, as a copied link would be opened by the same person.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.app.conftest import spend_template, spend_url  # noqa: F401 - fixtures
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import (  # noqa: F401
    SUBJECT,
    oidc_provider,
    start_oidc_provider,
    start_signed_app,
)

pytestmark = pytest.mark.e2e


def _sign_in(page, app_url: str) -> None:
    page.goto(app_url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=SUBJECT).click()
    expect(page.get_by_test_id("stSidebar")).to_be_visible(timeout=30_000)


def test_click_a_bar_then_open_the_link_in_a_new_tab(start_signed_app, oidc_provider, page,  # noqa: F811
                                                      spend_url):  # noqa: F811
    _sign_in(page, start_signed_app(spend_url, oidc_provider))
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Spend overview").click()
    expect(page.get_by_role("heading", name="Spend overview", level=1)).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("As of 2026-11-26 00:00 UTC")).to_be_visible(timeout=30_000)
    top_apps = page.locator(".st-key-overview_top_app")
    expect(top_apps.locator(".point path").first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "spend-overview")

    # a chart takes its column's width: wider once the sidebar is closed
    daily = page.locator(".st-key-overview_daily .main-svg").first
    expect(daily).to_be_visible(timeout=30_000)
    narrow = daily.bounding_box()["width"]
    page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    page.wait_for_function(
        "([width]) => document.querySelector('.st-key-overview_daily .main-svg')"
        ".getBoundingClientRect().width > width + 100", arg=[narrow], timeout=10_000)
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(page.get_by_test_id("stSidebarCollapseButton")).to_be_attached()
    # back to their width with the sidebar open, every chart redrawn, before a bar is clicked
    page.wait_for_function(
        "([width]) => Math.abs(document.querySelector('.st-key-overview_daily .main-svg')"
        ".getBoundingClientRect().width - width) < 2", arg=[narrow], timeout=10_000)
    page.wait_for_timeout(500)  # the charts' redraws, one a frame apart

    # click where the bar is drawn, as a person would (plotly's drag layer lies on top)
    bar = top_apps.locator(".point path").first.bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    expect(page.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible(
        timeout=30_000)
    expect(page).to_have_url(re.compile(r"app=\d+"))
    expect(page).to_have_url(re.compile(r"by=preset"))
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible(timeout=30_000)
    total = page.get_by_test_id("stMetricValue").first.inner_text()
    assert total.startswith("$")
    filtered_url = page.url
    screenshot(page, "usage-explorer")

    second = page.context.new_page()
    second.goto(filtered_url)
    expect(second.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible(
        timeout=30_000)
    expect(second.get_by_test_id("stMetricValue").first).to_have_text(total, timeout=30_000)
    assert second.url == filtered_url
    # the same view, not the default one: filtered to one app, grouped by VM size
    expect(second.get_by_test_id("stMultiSelect").filter(has_text="App")).not_to_contain_text(
        "Choose options")
    expect(second.get_by_test_id("stException")).to_have_count(0)
    second.close()
