"""Benchmark of the first chart in a fresh browser session on a warm server.

    uv run python bench/bench_first_chart.py [--runs 5] [--page overview]
        [--entry serve.py|app.py] [--throttle MBIT] [--baseline CHECKOUT] [--warm]

Starts the app (demo mode) on BENCH_DATABASE_URL (seeded at the large scale) the way
``fleetspend demo`` does (``streamlit run serve.py``: Streamlit's bundles sent compressed;
``--entry app.py``: plain ``streamlit run app.py``, bundles uncompressed), opens the page once
to warm the server (Python imports, pools, the pages' data caches), then ``--runs`` times opens
it in a fresh browser context (nothing cached by the browser, signed in through the demo
cookie) in Debian's chromium, and prints p50/p95 of: the page's first bytes (HTML), its
heading, the first chart drawn (a Plotly chart's SVG, as every chart of the pages is, drawn
by the app's component or by st.plotly_chart, or a Vega-Lite chart's marks, as the floor app
draws one), the view above the fold drawn (what a 1400 x 900 window shows without
scrolling: the run over, no placeholder left in view, every chart in view drawn and every
table in view made; charts below the fold may wait), every chart on the page drawn (the
run over, no placeholder left undrawn), where the first chart drawn starts (its top edge,
in px from the top of the window), and the bytes the browser fetched over the network (with
the biggest script). The page times each moment itself, checking every frame from its start;
until session 16 they were timed from here by Playwright's waits, which poll: the heading
came out 0.2-0.5 s late, the first chart up to 0.15 s. ``--warm`` measures a returning
browser instead: each fresh context opens the page once first (filling its HTTP and
compiled-code caches), and the visit measured is the next one, in a new tab (a new Streamlit
session).

Beside it, in the same run and alternating with it visit by visit, Streamlit's own floor: a
bare Streamlit app in the same fresh context, with the heading only, with the heading and
one three-bar Plotly chart (drawn by st.plotly_chart, and by the app's component with
plotly.js's basic bundle), and with the heading and one three-bar Vega-Lite chart, served as
the page is (the app's ``.streamlit`` settings, and serve.py's TCP_NODELAY and middleware,
``fleetspend.ui.assets.MIDDLEWARE``; with ``--entry app.py``, plain ``streamlit run``); with
serve.py, also the bare app's chart as Streamlit ships it (no middleware, its own settings).
``--baseline`` visits, alternately too, the same page of another checkout of the project (e.g.
main's worktree) served from its own ``--entry`` on the same database: before and after in one
run. ``--throttle`` has chromium
emulate a network of that many Mbit/s down (and 20 ms latency) for every visit, where
compression shows.

Target (issue 16): the first chart in a fresh session on a warm server under 1.5 s; charts
below the fold may wait, so for a page whose first chart starts below the fold (the team
comparison's, under its table) it is the view above the fold that has to be drawn by then.
"""

from __future__ import annotations

import argparse
import json
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
HEADINGS = {"overview": "Spend overview", "explorer": "Usage explorer", "teams": "Team comparison"}
# each page's path (the overview is the default page: /overview would be "page not found")
PATHS = {"overview": "", "explorer": "explorer", "teams": "teams"}
# Streamlit alone: the heading, and with ?chart=1 one small Plotly chart under it
FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

from fleetspend.ui import charts

st.set_page_config(layout="wide")
st.title("Floor")
if st.query_params.get("chart") == "component":
    charts.draw(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])), key="floor")
elif st.query_params.get("chart") == "vega":
    st.vega_lite_chart({"values": [{"k": "a", "v": 3}, {"k": "b", "v": 1}, {"k": "c", "v": 2}]},
                       {"mark": "bar", "encoding": {"y": {"field": "k", "type": "nominal"},
                                                    "x": {"field": "v", "type": "quantitative"}}})
elif st.query_params.get("chart"):
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])),
                    config={"displayModeBar": False})
"""
# the bare app served with the server's middleware in front of it
FLOOR_SERVED = """
import streamlit as st

from fleetspend.ui import nodelay
from fleetspend.ui.assets import MIDDLEWARE

nodelay.on_every_connection()
app = st.App("floor.py", middleware=MIDDLEWARE)
"""
MILESTONES = ("html", "heading", "first chart", "above the fold", "every chart")
VIEWPORT = {"width": 1400, "height": 900}
# the servers started, stopped at the end
processes: list[subprocess.Popen] = []
# what the page fetched over the network (a cached answer transfers nothing): name, bytes
FETCHED = """() => performance.getEntriesByType("navigation")
  .concat(performance.getEntriesByType("resource"))
  .map((entry) => [entry.name, entry.transferSize])"""
# each milestone as the page sees it, in ms since the epoch (the clock of time.time()),
# checked every frame from the page's start: its heading shown (an h1 saying __HEADING__);
# its first chart drawn (a Plotly chart's SVG or Vega's marks) and where that chart's top edge
# is; the view above the fold drawn (the run over once, no skeleton, undrawn chart or unmade
# table in the window); every chart drawn (the run over, nothing left loading, no chart
# undrawn)
MILESTONES_SEEN = """
window.__seen = {};
(function () {
  // charts: st.plotly_chart's, Vega's and the app's component (an empty box until its script
  // runs; a waiter of below_the_charts counts too: a view with one in it is drawn once it goes)
  const STREAMLIT_CHARTS = "[data-testid='stPlotlyChart'], [data-testid='stVegaLiteChart']";
  const CHART = `${STREAMLIT_CHARTS}, .stBidiComponent`;
  const MARKS = ".main-svg, .marks";
  const HEADING = __HEADING__;
  const DRAWN = ".js-plotly-plot .main-svg, [data-testid='stVegaLiteChart'] .marks";
  let ran = false;
  const all = (selector) => [...document.querySelectorAll(selector)];
  const inView = (element) => {
    const box = element.getBoundingClientRect();
    return box.bottom >= 0 && box.top < innerHeight;
  };
  const check = () => {
    const seen = window.__seen;
    const now = Date.now();
    const over = document.querySelector("[data-test-script-state='notRunning']") !== null;
    ran ||= over;
    seen.heading ??= all("h1").some((h1) => h1.textContent.trim() === HEADING) ? now : undefined;
    const drawn = document.querySelector(DRAWN);
    if (drawn && seen.chart === undefined) {
      seen.chart = now;
      seen.chartTop = Math.round(drawn.getBoundingClientRect().top);
    }
    const undrawn = (chart) => !chart.querySelector(MARKS);
    const loading = all("[data-testid='stSkeleton']");
    if (seen.fold === undefined && ran && seen.heading && !loading.some(inView)
        && !all(CHART).filter(inView).some(undrawn)
        && all("[data-testid='stDataFrame']").filter(inView)
          .every((table) => table.querySelector("canvas"))) {
      seen.fold = now;
    }
    const charts = all(`${STREAMLIT_CHARTS}, .fleetspend-chart`); // drawn or waiting, no waiter
    if (seen.every === undefined && over && !loading.length && charts.length
        && !charts.some(undrawn)) {
      seen.every = now;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""


def _start(script: Path, env: dict[str, str], log: Path) -> str:
    """Serve ``script`` on a free port (stopped at the end of the run); its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        cwd=script.parent)
    processes.append(process)
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(base, process)
    return base


def _visit(browser, base: str, path: str, heading: str, throttle: float | None,
           charted: bool = True, warm: bool = False) -> dict[str, float]:
    """One fresh session: seconds from navigation to each milestone, and bytes fetched (with
    ``warm``, in a browser context that has opened the page once before)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": remember.DEMO_COOKIE, "value": ADMIN, "url": base}])
    context.add_init_script(MILESTONES_SEEN.replace("__HEADING__", json.dumps(heading)))
    if warm:
        first_visit = context.new_page()
        first_visit.goto(f"{base}/{path}")
        first_visit.wait_for_function(
            "window.__seen.every" if charted else "window.__seen.heading", timeout=60_000)
        first_visit.close()
    page = context.new_page()
    if throttle:
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "uploadThroughput": -1,
            "downloadThroughput": throttle * 1e6 / 8})
    started_at = time.time()
    page.goto(f"{base}/{path}", wait_until="commit")
    html = time.time() - started_at
    page.wait_for_function("window.__seen.heading", timeout=60_000)
    if charted:
        page.wait_for_function("window.__seen.every && window.__seen.fold", timeout=60_000)
    seen = page.evaluate("window.__seen")
    fetched = page.evaluate(FETCHED) if charted else []
    context.close()
    moments = {"html": html, **{milestone: seen[name] / 1000 - started_at for milestone, name
                                in (("heading", "heading"), ("first chart", "chart"),
                                    ("above the fold", "fold"), ("every chart", "every"))
                                if name in seen}}
    if not charted:
        return moments
    biggest = max(fetched, key=lambda item: item[1], default=("", 0))
    return {**moments, "chart top": seen["chartTop"],
            "bytes": sum(size for _, size in fetched), "biggest": biggest[1],
            "biggest_name": biggest[0].rsplit("/", 1)[-1]}


def _print(title: str, runs: list[dict], milestones: tuple[str, ...]) -> None:
    print(title)
    for milestone in milestones:
        samples = sorted(run[milestone] for run in runs)
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        mark = " *" if milestone in ("first chart", "above the fold") and p95 >= 1.5 else ""
        print(f"  {milestone:14} p50 {statistics.median(samples):5.2f}  p95 {p95:5.2f}{mark}")
    if "above the fold" in milestones:
        tops = sorted(run["chart top"] for run in runs)
        fold = ("above" if tops[-1] < VIEWPORT["height"] else
                "below" if tops[0] >= VIEWPORT["height"] else "in some runs above")
        print(f"  first chart's top edge at {tops[0]}-{tops[-1]} px: {fold} the fold "
              f"({VIEWPORT['height']} px)")


def _print_fetched(run: dict) -> None:
    print(f"  fetched {run['bytes'] / 1e6:.2f} MB over the network; biggest "
          f"{run['biggest_name']} {run['biggest'] / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", default="overview", choices=list(HEADINGS))
    parser.add_argument("--entry", default="serve.py", choices=["serve.py", "app.py"])
    parser.add_argument("--throttle", type=float, default=None, metavar="MBIT")
    parser.add_argument("--baseline", type=Path, default=None, metavar="CHECKOUT",
                        help="another checkout of the project, visited alternately (before)")
    parser.add_argument("--warm", action="store_true",
                        help="a returning browser: each context opens the page once first")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    from playwright.sync_api import sync_playwright

    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    logs = Path(tempfile.mkdtemp(prefix="bench_first_chart_"))
    (logs / "floor.py").write_text(FLOOR_APP)
    (logs / "floor_served.py").write_text(FLOOR_SERVED)
    # the floor run with the app's Streamlit settings, as the page is
    shutil.copytree(schema.PROJECT_ROOT / ".streamlit", logs / ".streamlit",
                    ignore=shutil.ignore_patterns("secrets.toml"))
    app_env = {"DATABASE_URL": url, "REPLICA_URLS": "", "FLEETSPEND_DEMO_MODE": "1"}
    served = options.entry == "serve.py"
    path, heading = PATHS[options.page], HEADINGS[options.page]
    how = {"throttle": options.throttle, "warm": options.warm}
    try:
        servers = {"page": _start(schema.PROJECT_ROOT / options.entry, app_env,
                                  logs / "streamlit.log")}
        if options.baseline:
            servers["before"] = _start(options.baseline.resolve() / options.entry, app_env,
                                       logs / "baseline.log")
        floor_env = {"PYTHONPATH": str(schema.PROJECT_ROOT)}
        servers["floor"] = _start(logs / ("floor_served.py" if served else "floor.py"),
                                  floor_env, logs / "floor.log")
        if served:
            # Streamlit as it ships: no middleware, its default settings
            (logs / "plain").mkdir()
            (logs / "plain" / "floor.py").write_text(FLOOR_APP)
            servers["plain floor"] = _start(logs / "plain" / "floor.py", {},
                                            logs / "plain_floor.log")
        visits = {name: (lambda base=base: _visit(browser, base, path, heading, **how))
                  for name, base in servers.items() if name in ("page", "before")}
        visits["floor"] = lambda: _visit(browser, servers["floor"], "", "Floor", charted=False,
                                         **how)
        visits["floor chart"] = lambda: _visit(browser, servers["floor"], "?chart=1", "Floor",
                                               **how)
        visits["floor component"] = lambda: _visit(browser, servers["floor"], "?chart=component",
                                                   "Floor", **how)
        visits["floor vega"] = lambda: _visit(browser, servers["floor"], "?chart=vega", "Floor",
                                              **how)
        if served:
            visits["plain floor chart"] = lambda: _visit(
                browser, servers["plain floor"], "?chart=1", "Floor", **how)
        runs: dict[str, list[dict]] = {name: [] for name in visits}
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
        for started in processes:
            started.terminate()
            started.wait(timeout=20)
        shutil.rmtree(logs, ignore_errors=True)
    network = f", {options.throttle:g} Mbit/s" if options.throttle else ""
    browser_kind = "a returning browser (its HTTP cache warm)" if options.warm else "nothing cached"
    _print(f"{options.page} ({options.entry}), fresh browser session ({browser_kind}) on a "
           f"warm server{network}, {options.runs} runs, s", runs["page"], MILESTONES)
    _print_fetched(runs["page"][-1])
    if options.baseline:
        _print(f"before: the same page of {options.baseline}, same moments", runs["before"],
               MILESTONES)
        _print_fetched(runs["before"][-1])
    how = "served as the page is" if served else "plain streamlit run"
    _print(f"Streamlit alone (bare app, heading only, {how}), same moments", runs["floor"],
           MILESTONES[:2])
    _print(f"Streamlit alone, heading and one small Plotly chart ({how})", runs["floor chart"],
           MILESTONES[:3])
    _print(f"Streamlit alone, heading and one small chart by the app's component ({how})",
           runs["floor component"], MILESTONES[:3])
    _print(f"Streamlit alone, heading and one small Vega-Lite chart ({how})",
           runs["floor vega"], MILESTONES[:3])
    if served:
        _print("Streamlit alone, heading and one small Plotly chart (plain streamlit run)",
               runs["plain floor chart"], MILESTONES[:3])
    print("  (target: first chart < 1.5 s; charts below the fold may wait)")
    print("load average (1, 5, 15 min) at end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
