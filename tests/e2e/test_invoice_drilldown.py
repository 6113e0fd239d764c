"""In a real browser: an org admin clicks from an invoice total down to one machine, then back
up through the breadcrumbs, and every level shows its sum check passing."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import CREDITED_INVOICE
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
expect.set_options(timeout=30_000)  # each level runs several queries; CI machines are small

HEADER_PX = 35  # the height of a dataframe's header row and of each row
ROW_MARKER_X = 15  # the row selection column at the table's left edge


def pick_row(page: Page, table_index: int, row: int) -> None:
    """Select a table row by clicking its row marker, as a person would, once the page's run
    has ended (a click while the page is still drawing was lost once in CI)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state",
                                                           "notRunning")
    table = page.get_by_test_id("stDataFrame").nth(table_index)
    expect(table).to_be_visible()
    table.click(position={"x": ROW_MARKER_X, "y": HEADER_PX + row * HEADER_PX + HEADER_PX // 2})


def expect_level(page: Page, heading: str | re.Pattern) -> None:
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_text("Check:").first).to_be_visible()
    expect(page.get_by_text("Check failed")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def crumb(page: Page, label: str | re.Pattern):
    return page.locator(".st-key-drill_breadcrumbs").get_by_role("link", name=label)


def test_click_down_from_an_invoice_to_a_machine_and_back(start_app, page,
                                                         invoiced_database_url):
    page.goto(start_app(invoiced_database_url, FLEETSPEND_DEMO_MODE="1"))
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()

    # the invoices are newest first: the upcoming November draft, then October
    expect(page.get_by_test_id("stDataFrame")).to_contain_text(CREDITED_INVOICE)
    pick_row(page, 0, 1)
    expect_level(page, f"Invoice {CREDITED_INVOICE}")
    expect(page).to_have_url(re.compile(f"invoice={CREDITED_INVOICE}"))
    screenshot(page, "invoice")

    pick_row(page, 0, 0)  # the first group by product: machine runtime
    expect_level(page, "Product: Machines")
    expect(page).to_have_url(re.compile("by=product&key=machine_runtime"))

    pick_row(page, 0, 0)  # the dearest app
    expect_level(page, re.compile(r"^App "))
    app_heading = page.get_by_role("heading", level=1).inner_text()
    expect(page).to_have_url(re.compile(r"app=\d+"))

    pick_row(page, 0, 0)  # its dearest machine
    expect_level(page, re.compile(r"^Machine [0-9a-f]{14}$"))
    arithmetic = page.get_by_test_id("stText").filter(has_text="markup = $")
    expect(arithmetic.first).to_be_visible()
    expect(page).to_have_url(re.compile(r"machine=[0-9a-f]{14}"))
    screenshot(page, "machine")

    crumb(page, app_heading).click()
    expect_level(page, app_heading)
    crumb(page, "Product: Machines").click()
    expect_level(page, "Product: Machines")
    crumb(page, CREDITED_INVOICE).click()
    expect_level(page, f"Invoice {CREDITED_INVOICE}")
    crumb(page, "Invoices").click()
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()
    expect(page).not_to_have_url(re.compile("invoice="))
