"""In a real browser: the app comes up on a seeded database and shows its organizations."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_organizations_page_in_a_browser(start_app, page, seeded_database_url, seeded_engine):
    with seeded_engine.connect() as connection:
        organizations = connection.execute(text("select count(*) from organizations")).scalar()
    page.goto(start_app(seeded_database_url))
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()
    metric = page.get_by_test_id("stMetric").filter(has_text="Organizations")
    expect(metric).to_contain_text(str(organizations))
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "organizations")
