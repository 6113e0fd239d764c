"""In a real browser at the demo scale, what a picky user looks at first: the region map drawn
with the network cut, a legend saying what red means, money with its currency and separators
and no internal key column, the invoice PDF with its totals on page 1, a keyboard path from
an invoice down to a machine, and at 390 px a sidebar that gets out of the way with the money
still on screen. The last test writes screenshots of the overview, explorer, team
comparison, invoice, machine and dispute pages at 1440 and 390 px wide to
artifacts/screenshots/ (the README names the folder), for people to look at.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import text

from fleetspend.ui.remember import DEMO_COOKIE
from tests.app.conftest import open_grant
from tests.conftest import CREDITED_INVOICE, engine_for
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
expect.set_options(timeout=60_000)  # pages of the demo's biggest organization on 2 cores
ADMIN = "Org admin of northwind"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
WIDTHS = (1440, 390)
# Tables are drawn on a canvas (its hidden accessible copy holds the raw numbers, not what is
# shown), so the browser notes each text a canvas draws: the text, where it ends and the
# canvas's width, all in CSS pixels.
NOTE_CANVAS_TEXT = """
window.drawnText = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
  const shown = String(text);
  if (shown.length < 80) {
    const scale = this.getTransform().a / (window.devicePixelRatio || 1);
    const left = this.getTransform().e / (window.devicePixelRatio || 1) + x * scale;
    const align = this.textAlign;
    const width = this.measureText(shown).width * scale;
    const start = align === "right" || align === "end" ? left - width
      : align === "center" ? left - width / 2 : left;
    window.drawnText.push({text: shown, right: start + width,
                           canvas: this.canvas.getBoundingClientRect().width});
  }
  return fillText.call(this, text, x, y, ...rest);
};
"""
MONEY = r"^-?\$\d{1,3}(,\d{3})*\.\d{2}$"
PICTURE_HEIGHT_PX = 2600


def offline_page(browser: Browser, width: int = 1440) -> tuple[Page, list[str]]:
    """A page whose requests to anything but this machine fail, as behind a firewall; the
    second value lists the URLs refused."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    refused: list[str] = []

    def only_local(route) -> None:
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    context.add_init_script(NOTE_CANVAS_TEXT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page, refused


@pytest.fixture
def pages(browser) -> Iterator[list[Page]]:
    """Offline pages made in a test, closed after it."""
    made: list[Page] = []
    yield made
    for page in made:
        page.context.close()


def drawn(page: Page) -> list[dict]:
    """What the page's canvases drew (table cells and headers), oldest first."""
    return page.evaluate("window.drawnText")


def sign_in(page: Page, url: str, person: str) -> None:
    """Pick a demo person and wait until the browser remembers them (a cookie), so that
    opening a page by its URL next finds them signed in."""
    page.goto(url)
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name=person).click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_function(f"document.cookie.includes('{DEMO_COOKIE}=')")


def expect_page(page: Page, heading: str | re.Pattern) -> None:
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def picture(page: Page, name: str) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside the window, so the window is
    made tall for it)."""
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": PICTURE_HEIGHT_PX})
    # the page has finished its run: nothing running, no placeholder left
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state",
                                                           "notRunning")
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    page.wait_for_timeout(1_500)  # charts redraw at the new size
    screenshot(page, name)
    page.set_viewport_size({"width": width, "height": 900})


def open_row(page: Page, label: str, typed: str | None = None) -> None:
    """Open the next level from the keyboard: focus the select box under a table, type to
    filter (or take the first row) and press Enter. No mouse."""
    box = page.get_by_role("combobox", name=label)
    expect(box).to_be_visible()
    box.focus()
    if typed:
        page.keyboard.type(typed)
    else:
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")


def test_the_map_and_the_anomaly_legend_draw_with_the_network_cut(start_app, browser, pages,
                                                                   demo_database_url):
    page, refused = offline_page(browser)
    pages.append(page)
    sign_in(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"), ADMIN)
    expect_page(page, "Spend overview")
    region_map = page.locator(".st-key-overview_map")
    region_map.scroll_into_view_if_needed()
    # the world outline comes from the app itself: countries drawn, nothing asked of a CDN
    countries = region_map.locator(".layer.countries path")
    expect(countries.first).to_be_attached()
    assert len(countries.first.get_attribute("d") or "") > 10_000
    assert not [url for url in refused if "topojson" in url or "plot.ly" in url]
    # red marks the anomalous spend, and the legend says so
    daily = page.locator(".st-key-overview_daily")
    expect(daily.locator(".legendtext").filter(has_text="Anomaly")).to_have_count(1)
    expect(daily.locator(".legendtext").filter(has_text="Spend")).to_have_count(1)
    expect(page.locator(".modebar")).to_have_count(0)  # no Plotly toolbar over the charts
    # usage that stops well before the clock is said, not silent
    expect(page.get_by_text(re.compile(r"Usage is complete only through 2026-11-26"))
           ).to_be_visible()


def test_tables_and_csvs_show_money_with_currency_and_no_internal_keys(start_app, browser,
                                                                       pages,
                                                                       demo_database_url):
    page, _ = offline_page(browser)
    pages.append(page)
    sign_in(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"), ADMIN)
    expect_page(page, "Spend overview")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Usage explorer").click()
    expect_page(page, "Usage explorer")
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Total (USD)")
    # the table draws its amounts as dollars with separators, and no internal key
    page.wait_for_function(f"window.drawnText.some(d => /{MONEY}/.test(d.text) "
                           "&& d.text.includes(','))")
    texts = {note["text"] for note in drawn(page)}
    assert "Key" not in texts and "__other__" not in texts
    assert not [text for text in texts if re.fullmatch(r"\d+\.\d", text)]  # no "753.1"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download this table (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0][:3] == ["Series", "Total (USD)", "Share (%)"] and "Key" not in rows[0]
    assert all(re.fullmatch(r"-?\d+\.\d{2}", row[1]) for row in rows[1:])

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Invoices").click()
    expect_page(page, "Invoices")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    header = download.value.path().read_text().splitlines()[0]
    assert header == ("Period,Invoice,Total (USD),Status,Subtotal (USD),Credits (USD),"
                      "Change vs previous invoice")


def test_the_invoice_pdf_has_its_totals_on_page_one(start_app, browser, pages,
                                                    invoiced_database_url):
    with engine_for(invoiced_database_url).connect() as connection:
        total_cents, credits_cents = connection.execute(text(
            "select total_cents, credits_cents from invoices where invoice_number = :number"),
            {"number": CREDITED_INVOICE}).one()
    assert credits_cents > 0
    page, _ = offline_page(browser)
    pages.append(page)
    url = start_app(invoiced_database_url, FLEETSPEND_DEMO_MODE="1")
    sign_in(page, url, "Org admin of acme")
    page.goto(f"{url}/invoice?invoice={CREDITED_INVOICE}")
    expect_page(page, f"Invoice {CREDITED_INVOICE}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Invoice as PDF").click()
    reader = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    first = reader.pages[0].extract_text()
    assert f"Total due ${total_cents / 100:,.2f}" in first
    assert f"-${credits_cents / 100:,.2f}" in first and "Credit note" in first
    assert "Bill to" in first and "Due date" in first
    assert len(reader.pages) > 1 and "hours" in reader.pages[1].extract_text()


def test_the_keyboard_goes_from_an_invoice_down_to_a_machine(start_app, browser, pages,
                                                             invoiced_database_url):
    page, _ = offline_page(browser)
    pages.append(page)
    sign_in(page, start_app(invoiced_database_url, FLEETSPEND_DEMO_MODE="1"),
            "Org admin of acme")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Invoices").click()
    expect_page(page, "Invoices")
    open_row(page, "Open an invoice", CREDITED_INVOICE)
    expect_page(page, f"Invoice {CREDITED_INVOICE}")
    open_row(page, "Open the apps of a product", "Machines")
    expect_page(page, "Product: Machines")
    open_row(page, "Open the machines of an app")
    expect_page(page, re.compile(r"^App "))
    open_row(page, "Open a machine of this page")
    expect_page(page, re.compile(r"^Machine [0-9a-f]{14}$"))
    expect(page.get_by_text("Check:").first).to_be_visible()


def test_at_390_px_the_sidebar_closes_after_navigation_and_money_stays_on_screen(
        start_app, browser, pages, demo_database_url):
    page, _ = offline_page(browser, width=390)
    pages.append(page)
    sign_in(page, start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"), ADMIN)
    expect_page(page, "Spend overview")
    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Invoices").click()
    expect_page(page, "Invoices")
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    # the totals are drawn whole inside the table's 390 px-wide window, beside period and number
    page.wait_for_function("window.drawnText.some(d => d.text === 'Total (USD)')")
    totals = [note for note in drawn(page) if note["text"] == "Total (USD)"
              or re.fullmatch(MONEY, note["text"])]
    assert totals and all(note["right"] <= note["canvas"] for note in totals)


def test_screenshots_of_the_main_pages_at_1440_and_390_px(start_app, browser, pages,
                                                           demo_database_url):
    url = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    with engine_for(demo_database_url).connect() as connection:
        number, machine_id = connection.execute(text(
            "select invoices.invoice_number, allocations.resource_id"
            " from invoices join organizations using (org_id)"
            " join invoice_allocations allocations using (org_id, invoice_id)"
            " where organizations.slug = 'northwind' and invoices.status = 'finalized'"
            "   and allocations.resource_kind = 'machine'"
            " order by invoices.period_start_date desc, allocations.amount_cents desc"
            " limit 1")).one()
    grant = open_grant(demo_database_url, "northwind")
    views = {
        "overview": ("", "Spend overview"),
        "explorer": ("/explorer", "Usage explorer"),
        "team-comparison": ("/teams", "Team comparison"),
        "invoice": (f"/invoice?invoice={number}", f"Invoice {number}"),
        "machine": (f"/machine?invoice={number}&machine={machine_id}", f"Machine {machine_id}"),
    }
    for width in WIDTHS:
        page, _ = offline_page(browser, width)
        pages.append(page)
        sign_in(page, url, ADMIN)
        expect_page(page, "Spend overview")
        for name, (path, heading) in views.items():
            page.goto(f"{url}{path}")
            expect_page(page, heading)
            picture(page, f"{name}-{width}")
        support, _ = offline_page(browser, width)
        pages.append(support)
        sign_in(support, url, "Support engineer (Support Agent 1)")
        support.goto(f"{url}/dispute?grant={grant.grant_id}&invoice={number}")
        expect_page(support, f"Dispute: invoice {number}")
        expect(support.get_by_text(re.compile(r"^Re-rated at"))).to_be_visible(timeout=120_000)
        picture(support, f"dispute-{width}")
