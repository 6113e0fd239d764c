"""Benchmark of the first chart in a fresh browser session on a warm server.

    uv run python bench/bench_first_chart.py [--runs 5] [--page overview]

Starts the app (demo mode) on BENCH_DATABASE_URL (seeded at the large scale), opens the page
once to warm the server (Python imports, pools, the pages' data caches), then ``--runs`` times
opens it in a fresh browser context (nothing cached by the browser, signed in through the demo
cookie) in Debian's chromium, and prints p50/p95 of: the page's first bytes (HTML), the first
Plotly chart drawn (an SVG inside ``.js-plotly-plot``), every chart on the page drawn, and the
bytes the browser fetched (with the biggest script), beside the baseline measured in the same
run: the same page in the same fresh context with no chart at all (the first heading drawn).

Target (issue 16): the first chart in a fresh session on a warm server under 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleetspend import schema
from fleetspend.ui import remember
from tests.e2e.conftest import CHROMIUM_FLAGS, _free_port, _wait_healthy

ADMIN = "admin@northwind.example"
HEADINGS = {"overview": "Spend overview", "explorer": "Usage explorer", "teams": "Teams"}


def _start(url: str, log: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "REPLICA_URLS": "", "FLEETSPEND_DEMO_MODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(schema.PROJECT_ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=schema.PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(base, process)
    return base, process


def _visit(browser, base: str, page_name: str) -> dict[str, float]:
    """One fresh session: seconds from navigation to each milestone, and bytes fetched."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": remember.DEMO_COOKIE, "value": ADMIN, "url": base}])
    page = context.new_page()
    fetched: list[tuple[str, int]] = []
    page.on("response", lambda response: fetched.append(
        (response.url, int(response.headers.get("content-length") or 0))))
    started = time.perf_counter()
    page.goto(f"{base}/{page_name}", wait_until="commit")
    html = time.perf_counter() - started
    page.get_by_role("heading", name=HEADINGS[page_name], level=1).wait_for(timeout=60_000)
    heading = time.perf_counter() - started
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    first = time.perf_counter() - started
    charts = page.locator("[data-testid='stPlotlyChart']")
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=charts.count(), timeout=60_000)
    every = time.perf_counter() - started
    biggest = max(fetched, key=lambda item: item[1], default=("", 0))
    context.close()
    return {"html": html, "heading": heading, "first chart": first, "every chart": every,
            "bytes": sum(size for _, size in fetched), "biggest": biggest[1],
            "biggest_name": biggest[0].rsplit("/", 1)[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", default="overview", choices=list(HEADINGS))
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    from playwright.sync_api import sync_playwright

    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    logs = Path(tempfile.mkdtemp(prefix="bench_first_chart_"))
    base, process = _start(url, logs / "streamlit.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=CHROMIUM_FLAGS)
            _visit(browser, base, options.page)  # the warm-up: server caches filled
            runs = [_visit(browser, base, options.page) for _ in range(options.runs)]
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(logs, ignore_errors=True)
    print(f"{options.page}, fresh browser session on a warm server, {options.runs} runs, s")
    for milestone in ("html", "heading", "first chart", "every chart"):
        samples = sorted(run[milestone] for run in runs)
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        mark = " *" if milestone == "first chart" and p95 >= 1.5 else ""
        print(f"  {milestone:12} p50 {statistics.median(samples):5.2f}  p95 {p95:5.2f}{mark}")
    print("  (baseline: the heading, drawn without any chart; target: first chart < 1.5 s)")
    last = runs[-1]
    print(f"  fetched {last['bytes'] / 1e6:.1f} MB (content-length as sent); biggest "
          f"{last['biggest_name']} {last['biggest'] / 1e6:.2f} MB")
    print("load average (1, 5, 15 min) at end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
