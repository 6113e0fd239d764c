"""The app as `fleetspend demo` serves it (serve.py) answers each request on a keep-alive
connection as soon as it is written: with Nagle's algorithm on, every response after the first
on a connection waited 40 ms for the client's delayed acknowledgement (fleetspend/ui/nodelay.py)."""

from __future__ import annotations

import http.client
import re
import statistics
import time
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

REQUESTS = 20


def test_keep_alive_responses_are_not_held_back(start_app, demo_database_url) -> None:
    base = urlsplit(start_app(demo_database_url, FLEETSPEND_DEMO_MODE="1"))
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    # the smallest of the scripts the page loads first: one TCP segment, headers and all
    scripts = re.findall(r'(?:src|href)="\.?/?(static/js/[^"]+\.js)"', page)
    sizes = {}
    for script in scripts:
        connection.request("GET", f"/{script}", headers={"Accept-Encoding": "gzip"})
        sizes[script] = len(connection.getresponse().read())
    smallest = min(sizes, key=sizes.__getitem__)
    seconds = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        connection.request("GET", f"/{smallest}", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        seconds.append(time.perf_counter() - started)
        assert response.status == 200
    connection.close()
    # held back, each one takes the peer's delayed-ACK timeout (40 ms on Linux) or more
    assert statistics.median(seconds) < 0.02, f"{smallest}: {sorted(seconds)}"
