"""In a real browser: signing in through a local OpenID Connect provider, and names as text.

The provider is oidc-provider-mock, run as its own process on loopback with a free port; the
app gets an [auth] secrets file pointing at it. Demo mode is off for the sign-in test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, text

from fleetspend import schema
from tests.e2e.conftest import _free_port, _wait_healthy, screenshot

pytestmark = pytest.mark.e2e

ADMIN = "admin@acme.example"
SUBJECT = "acme-admin-subject"
ADMIN_CLAIMS = {"sub": SUBJECT, "email": ADMIN, "name": "Acme Corporation Admin"}
HOSTILE = "<img src=x onerror=alert(1)>"
LOAD_TIMEOUT_MS = 90_000  # generous: the first script run imports a lot on a busy 2-core box


def _wait_for_provider(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oidc-provider-mock exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/.well-known/openid-configuration",
                                        timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the OpenID Connect provider did not answer at {url}")


@pytest.fixture
def start_oidc_provider(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start oidc-provider-mock on 127.0.0.1 with a user for each of ``claims`` (a button
    per subject on its form); returns its URL."""
    processes: list[subprocess.Popen] = []

    def start(*claims: dict) -> str:
        port = _free_port()
        log = (tmp_path / f"oidc-provider-{port}.log").open("w")
        users = [option for each in claims for option in ("--user-claims", json.dumps(each))]
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
             str(port), *users],
            stdout=log, stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_for_provider(url, process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def oidc_provider(start_oidc_provider) -> str:
    """The provider with the seeded acme admin as its one user, email verified."""
    return start_oidc_provider({**ADMIN_CLAIMS, "email_verified": True})


@pytest.fixture
def start_signed_app(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start the app with an [auth] section for the provider; returns the app's URL."""
    processes: list[subprocess.Popen] = []

    def start(database_url: str, provider_url: str, **settings: str) -> str:
        port = _free_port()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-long-random-string-for-tests-only-0123456789"\n'
            'client_id = "fleetspend"\n'
            'client_secret = "fleetspend-test-secret"\n'
            f'server_metadata_url = "{provider_url}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "DATABASE_URL": database_url, "REPLICA_URLS": "",
               "FLEETSPEND_DEMO_MODE": "", **settings}
        log = (tmp_path / f"streamlit-{port}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(schema.PROJECT_ROOT / "serve.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--secrets.files", str(secrets)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=schema.PROJECT_ROOT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


def test_signing_in_through_openid_connect_lands_on_the_overview(
        start_signed_app, oidc_provider, page, seeded_database_url):
    page.goto(start_signed_app(seeded_database_url, oidc_provider))
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="Sign in").click()

    # the provider's own authorization form, on its own origin
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    assert page.url.startswith(oidc_provider)
    page.get_by_role("button", name=SUBJECT).click()

    expect(page.get_by_role("heading", name="Spend overview")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(ADMIN)
    metric = page.get_by_test_id("stMetric").filter(has_text="Month to date")
    expect(metric).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("Demo mode")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "signed-in-overview")


@pytest.mark.parametrize("claims", [ADMIN_CLAIMS, {**ADMIN_CLAIMS, "email_verified": False}],
                         ids=["email_verified missing", "email_verified false"])
def test_an_email_the_provider_did_not_verify_signs_nobody_in(
        start_signed_app, start_oidc_provider, page, seeded_database_url, claims):
    provider = start_oidc_provider(claims)
    page.goto(start_signed_app(seeded_database_url, provider))
    page.get_by_role("button", name="Sign in").click(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=SUBJECT).click(timeout=LOAD_TIMEOUT_MS)

    expect(page.get_by_text("did not confirm that your email address is yours")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Spend overview")).to_have_count(0)
    expect(page.get_by_text(ADMIN)).to_have_count(0)


def test_a_provider_that_never_sends_email_verified_signs_in_when_configured_to(
        start_signed_app, start_oidc_provider, page, seeded_database_url):
    provider = start_oidc_provider(ADMIN_CLAIMS)
    page.goto(start_signed_app(seeded_database_url, provider,
                               OIDC_ALLOW_MISSING_EMAIL_VERIFIED="1"))
    page.get_by_role("button", name="Sign in").click(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=SUBJECT).click(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Spend overview")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(ADMIN)


def test_a_link_opened_signed_out_lands_on_its_view_after_openid_sign_in(
        start_signed_app, oidc_provider, page, seeded_database_url):
    app = start_signed_app(seeded_database_url, oidc_provider)
    link = f"{app}/explorer?by=region&grain=week&from=2026-10-01&to=2026-10-31"
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=SUBJECT).click()

    # Streamlit brings every sign-in back to the home page; the app goes on to the link
    expect(page.get_by_role("heading", name="Usage explorer")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Group by")).to_have_value("Region")
    assert page.url.startswith(f"{app}/explorer?") and "by=region" in page.url, page.url
    page.reload()  # Streamlit's own cookie keeps an OpenID sign-in
    expect(page.get_by_role("combobox", name="Group by")).to_have_value(
        "Region", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_customer_controlled_names_render_as_text(start_app, page, seeded_database_url,
                                                  seeded_engine: Engine):
    with seeded_engine.begin() as connection:
        connection.execute(text("update organizations set name = :name where slug = 'acme'"),
                           {"name": HOSTILE})
        connection.execute(text(
            "update teams set name = :name || ' ' || team_id where org_id = "
            "(select org_id from organizations where slug = 'acme')"), {"name": HOSTILE})
        connection.execute(text(
            "update users set name = :name where email in (:admin, :developer)"),
            {"name": HOSTILE, "admin": "admin@acme.example", "developer": "dev@acme.example"})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(start_app(seeded_database_url, FLEETSPEND_DEMO_MODE="1"))
    expect(page.get_by_role("heading", name="Sign in to fleetspend")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").filter(has_text="Person").click()
    page.get_by_role("option", name="Org admin of acme").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Spend overview")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    # the sidebar shows the person's and the organization's names as typed, characters and all
    expect(page.get_by_test_id("stSidebar").get_by_test_id("stText")).to_contain_text(HOSTILE)
    expect(page.get_by_role("combobox", name="Organization")).to_have_value(
        f"{HOSTILE} (admin)")

    page.get_by_role("link", name="Teams and members").click()
    expect(page.get_by_role("heading", name="Teams and members")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2, timeout=LOAD_TIMEOUT_MS)
    screenshot(page, "hostile-names")
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("[onerror]").count() == 0
    assert dialogs == []
