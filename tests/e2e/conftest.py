"""A real browser (Debian's chromium driven by Playwright) against a real Streamlit server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fleetspend import schema

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = schema.PROJECT_ROOT / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start the app as `fleetspend demo` serves it (serve.py) on a free port against the given
    database (under ``base_path``, Streamlit's server.baseUrlPath, if given); returns its base
    URL."""
    processes: list[subprocess.Popen] = []

    def start(database_url: str, base_path: str = "", **extra_env: str) -> str:
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "REPLICA_URLS": "", **extra_env}
        log = (tmp_path / f"streamlit-{port}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(schema.PROJECT_ROOT / "serve.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.baseUrlPath", base_path],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=schema.PROJECT_ROOT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}" + (f"/{base_path}" if base_path else "")
        _wait_healthy(url, process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is required for browser tests: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under artifacts/screenshots for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
