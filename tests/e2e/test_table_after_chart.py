"""In a real browser, a fresh session on the usage explorer has its chart drawn before the
table below it is made (the table waits for it: fleetspend.ui.charts.below_the_charts), and
then gets the table."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"
# when each first showed up in the page, in ms since it started
FIRST_SEEN = """
window.__firstSeen = {};
new MutationObserver(() => {
  const seen = window.__firstSeen;
  if (!seen.chart && document.querySelector(".fleetspend-chart .main-svg")) {
    seen.chart = performance.now();
  }
  if (!seen.table && document.querySelector("[data-testid='stDataFrame']")) {
    seen.table = performance.now();
  }
}).observe(document, { childList: true, subtree: true });
"""


def test_the_table_is_made_after_the_chart_is_drawn(start_app, page,
                                                    demo_database_url) -> None:
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    page.add_init_script(FIRST_SEEN)
    page.goto(f"{base}/explorer")
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible(timeout=60_000)
    seen = page.evaluate("window.__firstSeen")
    assert seen["chart"] < seen["table"], seen
    expect(page.get_by_role("button", name="Download this table (CSV)")).to_be_visible()
    table.scroll_into_view_if_needed()
    screenshot(page, "explorer-table-after-chart")
    expect(page.get_by_test_id("stException")).to_have_count(0)
