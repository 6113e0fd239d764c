"""In a real browser, on `fleetspend seed --scale demo` data and nothing else, a support
engineer finds each of the demo's open disputes:

- acme-robotics' October invoice: the machine billed above its re-rated usage, and the
  correction already carried by the upcoming invoice as a negative adjustment (so no credit
  note would be right: it would refund it twice);
- lumen-studio's October invoice: reproduced exactly, nothing carried, an SLA credit owed; the
  engineer settles it with a credit note, confirmed, and issued once however often the
  confirmation is clicked.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from fleetspend.billing.verify import verify_month
from fleetspend.money import dollars
from fleetspend.seed.billing import OPEN_DISPUTE, OPEN_OVERCHARGE, Dispute
from tests.conftest import engine_for
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
LOAD_TIMEOUT_MS = 120_000  # re-rating a month of the demo's second organization


def open_workbench(page: Page, base: str, case: Dispute, number: str) -> None:
    """From the sign-in form to the dispute workbench of invoice ``number``, as a support
    engineer: the open case on the sign-in form, search, a support grant for its ticket."""
    page.goto(base)
    expect(page.get_by_text(f"ticket {case.ticket}")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Support engineer (Support Agent 1)").click()
    page.get_by_role("button", name="Continue").click()

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Search").click()
    search = page.get_by_label("Slug, name, invoice number or machine id")
    search.fill(number)
    expect(search).to_have_value(number)
    page.get_by_role("button", name="Search").click()  # see test_support_console
    expect(page.get_by_text("exact match")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("link", name=re.compile("Open with a support grant")).click()
    expect(page.get_by_label("Organization slug")).to_have_value(case.org_slug)
    page.get_by_label("Support ticket").fill(case.ticket)
    page.get_by_label("Why you need to look").fill(case.reason)
    page.get_by_role("button", name="Open support access").click()

    expect(page.get_by_role("heading", name=f"Invoice {number}", level=1)).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("link", name=re.compile("Dispute workbench")).click()



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

    open_workbench(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"), OPEN_DISPUTE,
                   number)
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


def test_support_finds_the_open_overcharge_and_settles_it_with_one_credit_note(
        start_app, page, demo_database_url):
    owner = engine_for(demo_database_url)
    with owner.connect() as connection:
        number, total_before = connection.execute(text(
            "select invoice_number, total_cents from invoices join organizations using (org_id) "
            "where slug = :slug and period_start_date = :month"),
            {"slug": OPEN_OVERCHARGE.org_slug, "month": OPEN_OVERCHARGE.month}).one()

    open_workbench(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"),
                   OPEN_OVERCHARGE, number)
    # the meter was right: nothing for a later invoice to carry, a credit note is the answer
    expect(page.get_by_text("reproduced exactly")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    page.get_by_role("textbox", name="Amount (USD)").fill(
        f"{OPEN_OVERCHARGE.credit_cents / 100:.2f}")
    page.get_by_role("textbox", name=re.compile("^Reason")).fill(OPEN_OVERCHARGE.reason)
    page.get_by_role("button", name="Review credit note").click()
    expect(page.get_by_text(re.compile("A credit note cannot be undone"))).to_be_visible()
    screenshot(page, "demo-credit-note-confirmation")
    page.get_by_role("button", name="Issue credit note").dblclick()  # a double submit

    total_after = total_before - OPEN_OVERCHARGE.credit_cents
    expect(page.get_by_text(f"The invoice's total is now {dollars(total_after)}.")
           ).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    total = page.get_by_test_id("stMetric").filter(has_text=re.compile("^Total"))
    expect(total).to_contain_text(dollars(total_after))
    expect(page.get_by_test_id("stException")).to_have_count(0)
    with owner.connect() as connection:
        notes = connection.execute(text(
            "select amount_cents from credit_notes where support_ticket = :ticket"),
            {"ticket": OPEN_OVERCHARGE.ticket}).scalars().all()
        stored = connection.execute(text(
            "select total_cents from invoices where invoice_number = :n"), {"n": number}
        ).scalar_one()
    owner.dispose()
    assert notes == [OPEN_OVERCHARGE.credit_cents]
    assert stored == total_after
