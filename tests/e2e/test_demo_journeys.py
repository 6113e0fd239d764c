"""The admin's journey of the demo, in a real browser, on `fleetspend seed --scale demo` data
and no other command: invoice -> team -> app -> machine, with the same cents on the team
comparison as on the invoice.

The developer's journey (a shared explorer link opened signed out) is
tests/e2e/test_shared_links.py, the support engineer's (the open dispute a credit note
settles) tests/e2e/test_demo_dispute.py, on the same data.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from fleetspend.money import dollars
from tests.conftest import engine_for
from tests.e2e.conftest import screenshot
from tests.e2e.test_invoice_drilldown import pick_row

pytestmark = pytest.mark.e2e
ADMIN = "Org admin of acme-robotics"


def sign_in_as(page: Page, person: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name=person, exact=True).click()
    page.get_by_role("button", name="Continue").click()


def metric(page: Page, label: str | re.Pattern):
    return page.get_by_test_id("stMetric").filter(has_text=label)


def downloaded_total(page: Page, button: str | re.Pattern, tmp_path: Path) -> Decimal:
    """The Total row's spend in a table's CSV download."""
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with path.open(newline="") as file:
        total = next(row for row in csv.DictReader(file) if "Total" in row.values())
    return Decimal(total["Spend (USD)"])


def test_an_admin_goes_from_the_invoice_to_a_team_an_app_and_a_machine_in_the_same_cents(
        start_app, page, demo_database_url, tmp_path):
    expect.set_options(timeout=60_000)
    page.goto(start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"))
    sign_in_as(page, ADMIN)
    navigation = page.get_by_test_id("stSidebarNav")
    navigation.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()
    pick_row(page, 0, 1)  # newest first: November's upcoming invoice, then October's
    heading = page.get_by_role("heading", name=re.compile(r"^Invoice FS-202610-"), level=1)
    expect(heading).to_be_visible()
    number = heading.inner_text().removeprefix("Invoice ").strip()
    owner = engine_for(demo_database_url)
    with owner.connect() as connection:
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where invoice_number = :n"),
            {"n": number}).scalar_one()
    expect(metric(page, "Subtotal")).to_contain_text(dollars(subtotal))

    # the team comparison opens on October, the last whole month: the invoice's cents
    navigation.get_by_role("link", name="Team comparison").click()
    expect(metric(page, "Organization, 2026-10-01 to 2026-10-31")).to_contain_text(
        dollars(subtotal))
    pick_row(page, 0, 0)  # the team that spent most
    apps_heading = page.get_by_role("heading", name=re.compile("^Apps of "))
    expect(apps_heading).to_be_visible()
    team = apps_heading.inner_text().removeprefix("Apps of ").strip()
    team_cents = int(downloaded_total(page, re.compile("apps \\(CSV\\)"), tmp_path) * 100)
    with owner.connect() as connection:
        allocated = connection.execute(text(
            "select sum(invoice_allocations.amount_cents) from invoice_allocations "
            "join invoices using (org_id, invoice_id) join apps using (org_id, app_id) "
            "join teams using (org_id, team_id) "
            "where invoices.invoice_number = :n and teams.name = :team"),
            {"n": number, "team": team}).scalar_one()
    owner.dispose()
    assert team_cents == allocated
    screenshot(page, "demo-team-on-the-comparison")

    # the team's link opens the invoice narrowed to its apps: the same cents
    page.get_by_role("link", name=f"{team}'s apps on invoice {number} (October 2026)").click()
    expect(page.get_by_text(f"Filtered to {team}'s apps: {dollars(team_cents)} of "
                            f"{dollars(subtotal)}.")).to_be_visible()
    expect(metric(page, "Amount")).to_contain_text(dollars(team_cents))
    expect(page).to_have_url(re.compile(r"team=\d+"))
    screenshot(page, "demo-team-on-the-invoice")

    pick_row(page, 0, 0)  # the team's dearest app
    expect(page.get_by_role("heading", name=re.compile(r"^App "), level=1)).to_be_visible()
    pick_row(page, 0, 0)  # its dearest machine
    expect(page.get_by_role("heading", name=re.compile(r"^Machine [0-9a-f]{14}$"), level=1)
           ).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Check failed")).to_have_count(0)
