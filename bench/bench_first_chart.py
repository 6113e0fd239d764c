"""Benchmark of the first chart in a fresh browser session on a warm server.

    uv run python bench/bench_first_chart.py [--runs 5] [--page overview]
        [--entry serve.py|app.py] [--throttle MBIT]

Starts the app (demo mode) on BENCH_DATABASE_URL (seeded at the large scale) the way
``fleetspend demo`` does (``streamlit run serve.py``: Streamlit's bundles sent compressed;
``--entry app.py``: plain ``streamlit run app.py``, bundles uncompressed), opens the page once
to warm the server (Python imports, pools, the pages' data caches), then ``--runs`` times opens
it in a fresh browser context (nothing cached by the browser, signed in through the demo
cookie) in Debian's chromium, and prints p50/p95 of: the page's first bytes (HTML), its
heading, the first Plotly chart drawn (an SVG inside ``.js-plotly-plot``), every chart on the
page drawn, and the bytes the browser fetched (with the biggest script).

Beside it, in the same run and alternating with it visit by visit, Streamlit's own floor: a
bare Streamlit app (plain ``streamlit run``) in the same fresh context, with the heading only,
and with the heading and one three-bar Plotly chart. ``--throttle`` has chromium emulate a
network of that many Mbit/s down (and 20 ms latency) for every visit, where compression shows.

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
# Streamlit alone: the heading, and with ?chart=1 one small Plotly chart under it
FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
st.title("Floor")
if st.query_params.get("chart"):
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])),
                    config={"displayModeBar": False})
"""
MILESTONES = ("html", "heading", "first chart", "every chart")


def _start(script: Path, env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        cwd=script.parent)
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(base, process)
    return base, process


def _visit(browser, base: str, path: str, heading: str, throttle: float | None,
           charted: bool = True) -> dict[str, float]:
    """One fresh session: seconds from navigation to each milestone, and bytes fetched."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": remember.DEMO_COOKIE, "value": ADMIN, "url": base}])
    page = context.new_page()
    if throttle:
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "uploadThroughput": -1,
            "downloadThroughput": throttle * 1e6 / 8})
    fetched: list[tuple[str, int]] = []
    page.on("response", lambda response: fetched.append(
        (response.url, int(response.headers.get("content-length") or 0))))
    started = time.perf_counter()
    page.goto(f"{base}/{path}", wait_until="commit")
    html = time.perf_counter() - started
    page.get_by_role("heading", name=heading, level=1).wait_for(timeout=60_000)
    heading_s = time.perf_counter() - started
    if not charted:
        context.close()
        return {"html": html, "heading": heading_s}
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    first = time.perf_counter() - started
    charts = page.locator("[data-testid='stPlotlyChart']")
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=charts.count(), timeout=60_000)
    every = time.perf_counter() - started
    biggest = max(fetched, key=lambda item: item[1], default=("", 0))
    context.close()
    return {"html": html, "heading": heading_s, "first chart": first, "every chart": every,
            "bytes": sum(size for _, size in fetched), "biggest": biggest[1],
            "biggest_name": biggest[0].rsplit("/", 1)[-1]}


def _print(title: str, runs: list[dict], milestones: tuple[str, ...]) -> None:
    print(title)
    for milestone in milestones:
        samples = sorted(run[milestone] for run in runs)
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        mark = " *" if milestone == "first chart" and p95 >= 1.5 else ""
        print(f"  {milestone:12} p50 {statistics.median(samples):5.2f}  p95 {p95:5.2f}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", default="overview", choices=list(HEADINGS))
    parser.add_argument("--entry", default="serve.py", choices=["serve.py", "app.py"])
    parser.add_argument("--throttle", type=float, default=None, metavar="MBIT")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    from playwright.sync_api import sync_playwright

    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    logs = Path(tempfile.mkdtemp(prefix="bench_first_chart_"))
    (logs / "floor.py").write_text(FLOOR_APP)
    base, process = _start(
        schema.PROJECT_ROOT / options.entry,
        {"DATABASE_URL": url, "REPLICA_URLS": "", "FLEETSPEND_DEMO_MODE": "1"},
        logs / "streamlit.log")
    floor, floor_process = _start(logs / "floor.py", {}, logs / "floor.log")
    visits = {
        "page": lambda: _visit(browser, base, options.page, HEADINGS[options.page],
                               options.throttle),
        "floor": lambda: _visit(browser, floor, "", "Floor", options.throttle, charted=False),
        "floor chart": lambda: _visit(browser, floor, "?chart=1", "Floor", options.throttle),
    }
    runs: dict[str, list[dict]] = {name: [] for name in visits}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=CHROMIUM_FLAGS)
            for visit in visits.values():  # the warm-up: server caches filled
                visit()
            for _ in range(options.runs):
                for name, visit in visits.items():
                    runs[name].append(visit())
            browser.close()
    finally:
        for started in (process, floor_process):
            started.terminate()
            started.wait(timeout=20)
        shutil.rmtree(logs, ignore_errors=True)
    network = f", {options.throttle:g} Mbit/s" if options.throttle else ""
    _print(f"{options.page} ({options.entry}), fresh browser session on a warm server"
           f"{network}, {options.runs} runs, s", runs["page"], MILESTONES)
    last = runs["page"][-1]
    print(f"  fetched {last['bytes'] / 1e6:.1f} MB (content-length as sent); biggest "
          f"{last['biggest_name']} {last['biggest'] / 1e6:.2f} MB")
    _print("Streamlit alone (bare app, heading only), same moments", runs["floor"],
           MILESTONES[:2])
    _print("Streamlit alone, heading and one small Plotly chart", runs["floor chart"],
           MILESTONES[:3])
    print("  (target: first chart < 1.5 s)")
    print("load average (1, 5, 15 min) at end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
