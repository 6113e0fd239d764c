"""In a real browser, issue 20's done-when: a platform connected by files alone.

From an empty database, docs/connect-a-platform.md runs verbatim (tests/walkthrough.py):
the watched folder takes the example's accounts and a week of usage, the month is drafted.
Then the app is served with sign-in through the local OpenID Connect provider; Ada, an admin
the accounts file created, signs in and reads the invoice, its lines and its machines; Ben,
a member, signs in too. The walkthrough's later accounts file removes Ben, and his next page
view is refused while Ada's is not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import (  # noqa: F401 (fixtures)
    LOAD_TIMEOUT_MS,
    start_oidc_provider,
    start_signed_app,
)
from tests.walkthrough import Walkthrough

pytestmark = pytest.mark.e2e

ADA = {"sub": "ada", "email": "ada@lumen.example", "name": "Ada Okafor", "email_verified": True}
BEN = {"sub": "ben", "email": "ben@lumen.example", "name": "Ben Ito", "email_verified": True}
INVOICE = "FS-202611-000001"
MACHINES = ("1a2b3c4d5e6f01", "1a2b3c4d5e6f02", "1a2b3c4d5e6f03", "1a2b3c4d5e6f04")
REFUSED = "your membership ended"  # the page's refusal (the sidebar says so too)


@pytest.fixture
def walkthrough(empty_database_url: str, tmp_path: Path):
    walk = Walkthrough(tmp_path / "walk", empty_database_url)
    yield walk
    walk.close()


def sign_in(page: Page, app: str, subject: str) -> None:
    page.goto(app)
    page.get_by_role("button", name="Sign in").click(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=subject).click(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Spend overview")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)


def test_an_admin_created_by_files_reads_the_first_invoice_and_a_removed_member_is_refused(
        walkthrough, empty_database_url, start_signed_app, start_oidc_provider,  # noqa: F811
        browser, page):
    walkthrough.run_steps(until="6.")  # database, feed, accounts, a week of usage, draft
    app = start_signed_app(empty_database_url, start_oidc_provider(ADA, BEN))

    sign_in(page, app, "ada")
    expect(page.get_by_role("combobox", name="Organization")).to_have_value(
        "Lumen Labs (admin)")
    page.goto(f"{app}/invoices")
    expect(page.get_by_test_id("stDataFrame")).to_contain_text(INVOICE,
                                                               timeout=LOAD_TIMEOUT_MS)
    page.goto(f"{app}/invoice?invoice={INVOICE}")
    expect(page.get_by_role("heading", name=f"Invoice {INVOICE}")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("$66.80").first).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Machines")
    screenshot(page, "connect-a-platform-invoice")
    page.goto(f"{app}/invoice_machines?invoice={INVOICE}")
    machines = page.get_by_test_id("stDataFrame").first
    for machine_id in MACHINES:
        expect(machines).to_contain_text(machine_id, timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "connect-a-platform-machines")

    ben_context = browser.new_context(viewport={"width": 1400, "height": 900})
    ben = ben_context.new_page()
    try:
        sign_in(ben, app, "ben")
        expect(ben.get_by_role("combobox", name="Organization")).to_have_value(
            "Lumen Labs (member)")

        walkthrough.run_steps(until="8.")  # the app (served above), then Ben leaves
        ben.reload()
        expect(ben.get_by_text(REFUSED)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        expect(ben.get_by_test_id("stMetric")).to_have_count(0)
        screenshot(ben, "connect-a-platform-member-removed")
    finally:
        ben_context.close()

    page.reload()  # Ada, still an admin, reads on
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(MACHINES[0],
                                                                      timeout=LOAD_TIMEOUT_MS)
    walkthrough.run_steps()  # the month ends
