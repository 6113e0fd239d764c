"""A fresh session on any page connects to the server at the first try, under a base URL path
too: the page names the server's base URL (fleetspend/ui/assets.py), where Streamlit's
frontend would otherwise try the page's own path first (a 404, then a 100 ms wait)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from fleetspend.ui.remember import DEMO_COOKIE

pytestmark = pytest.mark.e2e

ADMIN = "admin@northwind.example"


@pytest.mark.parametrize("base_path", ["", "fleetspend"])
def test_a_page_connects_at_the_first_try(start_app, page, demo_database_url,
                                          base_path) -> None:
    base = start_app(demo_database_url, base_path=base_path, FLEETSPEND_DEMO_MODE="1")
    page.context.add_cookies([{"name": DEMO_COOKIE, "value": ADMIN, "url": base}])
    probed: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda request: probed.append(urlsplit(request.url).path)
            if request.url.endswith(("/_stcore/health", "/_stcore/host-config")) else None)
    page.on("websocket", lambda socket: sockets.append(urlsplit(socket.url).path))
    page.goto(f"{base}/explorer")
    expect(page.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible(
        timeout=60_000)
    prefix = f"/{base_path}" if base_path else ""
    assert sorted(probed) == [f"{prefix}/_stcore/health", f"{prefix}/_stcore/host-config"]
    assert sockets == [f"{prefix}/_stcore/stream"]
    expect(page.get_by_test_id("stException")).to_have_count(0)
