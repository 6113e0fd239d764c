"""In a real browser: an org admin opens the team comparison, picks a team, sees its apps, and
follows the link into the usage explorer with the team filter in the URL."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_invoice_drilldown import pick_row

pytestmark = pytest.mark.e2e
expect.set_options(timeout=30_000)


def test_an_admin_drills_from_a_team_into_its_apps(start_app, page, seeded_database_url):
    page.goto(start_app(seeded_database_url, FLEETSPEND_DEMO_MODE="1"))
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Team comparison").click()
    expect(page.get_by_role("heading", name="Team comparison", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Teams side by side")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Apps of "))).to_have_count(0)
    screenshot(page, "team-comparison")

    pick_row(page, 0, 0)  # the team that spent most
    expect(page).to_have_url(re.compile(r"team=\d+"))
    apps_heading = page.get_by_role("heading", name=re.compile("^Apps of "))
    expect(apps_heading).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    team_name = apps_heading.inner_text().removeprefix("Apps of ").strip()
    team_id = re.search(r"team=(\d+)", page.url).group(1)
    screenshot(page, "team-apps")

    page.get_by_role("link", name=f"{team_name} in the usage explorer").click()
    expect(page.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(f"team={team_id}"))
    expect(page.get_by_test_id("stException")).to_have_count(0)
