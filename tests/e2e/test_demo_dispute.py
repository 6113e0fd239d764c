"""In a real browser, on `fleetspend seed --scale demo` data and nothing else: a support
engineer finds the demo's open dispute, sees the machine billed above its re-rated usage in
the dispute workbench, and that the correction is already carried by the upcoming invoice as
a negative adjustment (so no credit note would be right: it would refund it twice)."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from fleetspend.billing.verify import verify_month
from fleetspend.seed.billing import OPEN_DISPUTE
from tests.conftest import engine_for
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
LOAD_TIMEOUT_MS = 120_000  # re-rating a month of the demo's second organization


def test_support_finds_the_demo_s_open_dispute_and_settles_it(start_app, page,
                                                             demo_database_url):
    owner = engine_for(demo_database_url)
    (subtotal,) = {(d.invoice_number, int(d.stored) - int(d.expected))
                   for d in verify_month(owner, OPEN_DISPUTE.month, OPEN_DISPUTE.org_slug)
                   if d.level == "invoice" and d.field == "subtotal_cents (re-rated)"}
    number, overbilled = subtotal
    with owner.connect() as connection:
        total_before = connection.execute(text(
            "select total_cents from invoices where invoice_number = :n"), {"n": number}
        ).scalar_one()
    assert overbilled > 0

    page.goto(start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"))
    expect(page.get_by_text(f"ticket {OPEN_DISPUTE.ticket}")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Support engineer (Support Agent 1)").click()
    page.get_by_role("button", name="Continue").click()

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Search").click()
    search = page.get_by_label("Slug, name, invoice number or machine id")
    search.fill(number)
    search.press("Enter")
    expect(page.get_by_text("exact match")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("link", name=re.compile("Open with a support grant")).click()
    expect(page.get_by_label("Organization slug")).to_have_value(OPEN_DISPUTE.org_slug)
    page.get_by_label("Support ticket").fill(OPEN_DISPUTE.ticket)
    page.get_by_label("Why you need to look").fill(OPEN_DISPUTE.reason)
    page.get_by_role("button", name="Open support access").click()

    expect(page.get_by_role("heading", name=f"Invoice {number}", level=1)).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("link", name=re.compile("Dispute workbench")).click()
    expect(page.get_by_text(re.compile(r"figures differ from the invoice"))).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    screenshot(page, "demo-open-dispute")

    upcoming = number.replace(f"{OPEN_DISPUTE.month:%Y%m}", "202611")
    expect(page.get_by_text(re.compile(f"already carried as adjustment lines by {upcoming}"))
           ).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    with owner.connect() as connection:
        adjusted = connection.execute(text(
            "select sum(invoice_lines.amount_cents) from invoice_lines"
            " join invoices using (org_id, invoice_id)"
            " where invoices.invoice_number = :upcoming"
            "   and invoice_lines.adjusts_period_date = :month"),
            {"upcoming": upcoming, "month": OPEN_DISPUTE.month}).scalar_one()
        total_after = connection.execute(text(
            "select total_cents from invoices where invoice_number = :n"), {"n": number}
        ).scalar_one()
    assert adjusted == -overbilled
    assert total_after == total_before  # the sealed invoice itself never changes
    expect(page.get_by_test_id("stException")).to_have_count(0)
    owner.dispose()
