"""In a real browser: with no replica reachable and reads falling back to the primary, every
page of an org admin's menu says so, once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.db import PRIMARY_FALLBACK_NOTICE
from tests.app.conftest import spend_template, spend_url  # noqa: F401 - fixtures
from tests.app.test_frame import UNREACHABLE_REPLICA

pytestmark = pytest.mark.e2e

MENU = ["Spend overview", "Usage explorer", "Teams and members", "Team comparison", "Invoices",
        "Support access log"]


def test_every_page_of_the_menu_says_it_reads_from_the_primary(start_app, page,
                                                                spend_url):  # noqa: F811
    page.goto(start_app(spend_url, FLEETSPEND_DEMO_MODE="1", APP_REPLICA_URLS=UNREACHABLE_REPLICA,
                        READ_FALLBACK_TO_PRIMARY="1"))
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    navigation = page.get_by_test_id("stSidebarNav")
    for title in MENU:
        navigation.get_by_role("link", name=title).click()
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=60_000)
        expect(page.get_by_text(PRIMARY_FALLBACK_NOTICE)).to_have_count(1)
