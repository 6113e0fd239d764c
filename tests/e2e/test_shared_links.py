"""In a real browser: a shared link survives signing in and reloading.

On `fleetspend seed --scale demo` data and nothing else (the developer's journey of the demo),
a developer opens a colleague's explorer link without being signed in: the sign-in form shows
at that very URL, and once they have picked who to be (demo mode) the explorer shows the
link's view. A reload keeps them signed in, on the same view.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.ui import remember
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

LOAD_TIMEOUT_MS = 90_000
SHARED_VIEW = "explorer?measure=spend&by=region&grain=week&from=2026-10-01&to=2026-10-31"


def test_a_developer_opens_a_shared_explorer_link_signed_out_and_lands_on_that_view(
        start_app, page, demo_database_url):
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.goto(f"{base}/{SHARED_VIEW}")
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert page.url == f"{base}/{SHARED_VIEW}"

    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Developer of acme-robotics").click()
    page.get_by_role("button", name="Continue").click()

    def shows_the_shared_view() -> None:
        expect(page.get_by_role("heading", name="Usage explorer")).to_be_visible(
            timeout=LOAD_TIMEOUT_MS)
        expect(page.get_by_test_id("stSidebar")).to_contain_text("dev@acme-robotics.example")
        expect(page.get_by_role("combobox", name="Group by")).to_have_value("Region")
        expect(page.get_by_role("combobox", name="Per")).to_have_value("week")
        expect(page.get_by_test_id("stMetric").filter(has_text="2026-10-01 to 2026-10-31")
               ).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        for part in ("by=region", "grain=week", "from=2026-10-01", "to=2026-10-31"):
            assert part in page.url, page.url

    shows_the_shared_view()
    screenshot(page, "shared-explorer-link")
    page.wait_for_function(f"document.cookie.includes('{remember.DEMO_COOKIE}=')")

    page.reload()  # a new Streamlit session: the browser's cookie keeps the demo pick
    shows_the_shared_view()
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_have_count(0)

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    # signing out has the browser forget the pick
    page.wait_for_function(f"!document.cookie.includes('{remember.DEMO_COOKIE}=')")
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
