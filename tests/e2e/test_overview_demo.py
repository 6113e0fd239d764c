"""In a real browser at the demo scale: the spend pages of the biggest organization render
without errors (their screenshots are saved for people to look at) and its invoices are
there out of the box.

The demo data (six organizations, the biggest with 1,200 machines over 90 days, August to
October finalized and November drafted by the seed) is built once per session.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_spend_pages_at_the_demo_scale(start_app, page, demo_database_url):
    page.goto(start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"))
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Org admin of northwind").click()
    page.get_by_role("button", name="Continue").click()
    navigation = page.get_by_test_id("stSidebarNav")

    # customers land on the spend overview
    expect(page.get_by_role("heading", name="Spend overview", level=1)).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("As of 2026-11-26 00:00 UTC")).to_be_visible(timeout=60_000)
    expect(page.locator(".st-key-overview_map")).to_be_visible(timeout=30_000)
    # the demo data's runaway app and region migration are flagged
    expect(page.get_by_text("moved from").first).to_be_visible()
    expect(page.get_by_text("peaking at").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("We could not load")).to_have_count(0)
    page.set_viewport_size({"width": 1400, "height": 2400})  # the whole page in one picture
    screenshot(page, "demo-spend-overview")

    navigation.get_by_role("link", name="Usage explorer").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "demo-usage-explorer")

    # the seed billed its history: the upcoming invoice and every past month, out of the box
    navigation.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible(timeout=60_000)
    for number in ("FS-202611-000001", "FS-202610-000001", "FS-202608-000001"):
        expect(page.get_by_test_id("stDataFrame").first).to_contain_text(number)
    expect(page.get_by_test_id("stException")).to_have_count(0)
