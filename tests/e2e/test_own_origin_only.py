"""A fresh session asks nothing of any server but the app's own: no CDN, no font or icon
service (a Material page icon was fetched from fonts.gstatic.com on every visit)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"


def test_a_visit_fetches_from_the_app_alone(start_app, page, demo_database_url) -> None:
    base = start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path, heading in (("", "Spend overview"), ("/explorer", "Usage explorer")):
        page.goto(base + path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible(timeout=60_000)
        expect(page.locator(".main-svg").first).to_be_visible(timeout=60_000)
    elsewhere = [url for url in requested
                 if not url.startswith((base + "/", "data:", "blob:"))]
    assert requested and not elsewhere
