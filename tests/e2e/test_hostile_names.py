"""In a real browser: charts draw customers' names as text. With acme's teams and apps named
like links and tags, the spend overview (bars, the treemap once opened) and the explorer by
team have no anchor to a foreign host and no bold from a name, and the overview shows the
names literally."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests import hostile
from tests.app.conftest import spend_template  # noqa: F401 - fixture
from tests.conftest import create_database, drop_database, engine_for
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def hostile_url(server_url: str, spend_template: str) -> Iterator[str]:  # noqa: F811
    name = f"fleetspend_hostile_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=spend_template)
    engine = engine_for(url)
    hostile.rename(engine)
    engine.dispose()
    yield url
    drop_database(server_url, name)


def _links(page: Page) -> list[str]:
    """Every link target on the page, HTML and SVG (Plotly draws <a xlink:href>)."""
    return page.eval_on_selector_all(
        "a", "links => links.map(a => a.getAttribute('href') "
             "|| a.getAttribute('xlink:href') || '')")


def _assert_names_inert(page: Page) -> None:
    charts = page.locator(".js-plotly-plot")
    expect(charts.first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert not [link for link in _links(page) if "evil.example" in link]
    expect(page.locator("b, strong").filter(has_text="bold")).to_have_count(0)
    expect(charts.locator("tspan[style*='bold']").filter(has_text="bold")).to_have_count(0)


def test_charts_draw_hostile_names_as_text(start_app, page, hostile_url):
    page.goto(start_app(hostile_url, FLEETSPEND_DEMO_MODE="1"))
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    navigation = page.get_by_test_id("stSidebarNav")

    navigation.get_by_role("link", name="Spend overview").click()
    expect(page.get_by_text("As of 2026-11-26 00:00 UTC")).to_be_visible(timeout=60_000)
    top_apps = page.locator(".st-key-overview_top_app")
    expect(top_apps.locator(".point path").first).to_be_visible(timeout=30_000)
    page.get_by_text("By team, app and VM size").click()  # the treemap, drawn once opened
    expect(page.locator(".st-key-overview_treemap .main-svg").first).to_be_visible(
        timeout=30_000)
    _assert_names_inert(page)
    # the names are there, as the characters they are
    expect(top_apps.get_by_text("<", exact=False).first).to_be_attached()
    screenshot(page, "hostile-spend-overview")

    navigation.get_by_role("link", name="Usage explorer").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=60_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Group by").click()
    page.get_by_role("option", name="Team", exact=True).click()
    expect(page).to_have_url(re.compile(r"by=team"), timeout=30_000)
    _assert_names_inert(page)
    screenshot(page, "hostile-usage-explorer")
