"""In a real browser: demo mode on a seeded database, an org admin sees their organization."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_an_admin_picked_in_demo_mode_sees_their_organization(start_app, page,
                                                              seeded_database_url):
    page.goto(start_app(seeded_database_url, FLEETSPEND_DEMO_MODE="1"))
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Demo mode: you picked who to be")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible(timeout=90_000)
    metric = page.get_by_test_id("stMetric").filter(has_text="Organizations")
    expect(metric).to_contain_text("1", timeout=90_000)
    expect(page.get_by_text("Demo mode: you picked who to be")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "organizations")
