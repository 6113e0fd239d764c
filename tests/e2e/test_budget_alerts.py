"""Done when, in a real browser: an org admin sets up alert delivery and creates a team
budget; usage imported through `fleetspend ingest` takes the team past 80%; `fleetspend
alerts run` fires one alert, which the admin sees unread and follows to the team's apps and
machines; a local SMTP server got one email and a local HTTP server one webhook with a valid
signature; a second run sends nothing; acknowledging clears the unread count."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from fleetspend import schema
from fleetspend.alerts import delivery
from tests.conftest import engine_for
from tests.db import usage_files
from tests.e2e.conftest import screenshot
from tests.e2e.test_invoice_drilldown import pick_row
from tests.local_servers import smtp_server, webhook_server

pytestmark = pytest.mark.e2e
expect.set_options(timeout=30_000)

SECRET = "browser-typed-secret-0123"
MACHINES = 10
FIRST_HOUR = datetime(2026, 12, 1, tzinfo=UTC)


def _fleetspend(database_url: str, *args: str, **env: str) -> str:
    """Run the `fleetspend` command as an operator would; its output."""
    done = subprocess.run([sys.executable, "-m", "fleetspend", *args], capture_output=True,
                          text=True, cwd=schema.PROJECT_ROOT, timeout=300,
                          env={**os.environ, "DATABASE_URL": database_url, **env})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _usage_file(folder, team_app: str, hours: range):
    """MACHINES performance-1x machines of ``team_app`` running ``hours`` of December 1."""
    records = []
    for number in range(MACHINES):
        machine = f"b0d9e7a1c3{number:04x}"
        records += [usage_files.machine("acme", team_app, machine, FIRST_HOUR,
                                        preset="performance-1x", memory_mb=2048),
                    usage_files.event("acme", machine, FIRST_HOUR, "start")]
        records += [usage_files.usage("acme", machine, FIRST_HOUR + timedelta(hours=hour),
                                      runtime_seconds=3600, preset="performance-1x",
                                      memory_mb=2048) for hour in hours]
    return usage_files.write(folder, records)


def _sidebar_says(page, count: str) -> None:
    """The sidebar's unread count, read again until it says ``count`` (it is cached briefly)."""
    sidebar = page.get_by_test_id("stSidebar")
    for _ in range(10):
        if sidebar.get_by_text(count).count():
            break
        page.wait_for_timeout(2_000)
        page.reload()
    expect(sidebar.get_by_text(count)).to_be_visible()


def test_a_team_budget_alerts_once_by_inbox_email_and_webhook(start_app, page, tmp_path,
                                                              seeded_database_url):
    engine = engine_for(seeded_database_url)
    with engine.connect() as connection:
        team, app_name = connection.execute(text(
            "select teams.name, apps.name from apps join teams using (org_id, team_id) "
            "join organizations using (org_id) where slug = 'acme' order by apps.app_id "
            "limit 1")).one()
    # the budget's first six hours: 42.5% of it, below every threshold
    _fleetspend(seeded_database_url, "ingest", str(_usage_file(tmp_path, app_name, range(6))))
    with engine.connect() as connection:
        six_hours = connection.execute(text(
            "select round(sum(amount_precise) * 100) from rollup_org_daily "
            "where usage_date = '2026-12-01'")).scalar_one()
    engine.dispose()
    budget = f"{float(six_hours) * 2 / 85:.2f}"  # twelve hours: 85%

    with smtp_server() as (mailbox, smtp_port), webhook_server() as hook:
        url = start_app(seeded_database_url, FLEETSPEND_DEMO_MODE="1")
        page.goto(url)
        page.get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="Org admin of acme").click()
        page.get_by_role("button", name="Continue").click()
        _sidebar_says(page, "0 unread alerts")

        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Alert delivery").click()
        expect(page.get_by_role("heading", name="Alert delivery", level=1)).to_be_visible()
        page.get_by_label("Recipients (one a line, or separated by commas)").fill(
            "ops@acme.example")
        page.get_by_role("button", name="Save recipients").click()
        expect(page.get_by_text("The recipients are saved.")).to_be_visible()
        page.get_by_label("Name").fill("team chat")
        page.get_by_label("URL (https://...)").fill(hook.url)
        page.get_by_label(re.compile("^Signing secret")).fill(SECRET)
        page.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_text("The webhook is added.")).to_be_visible()

        nav.get_by_role("link", name="Budgets").click()
        expect(page.get_by_role("heading", name="Budgets", level=1)).to_be_visible()
        page.get_by_label("Name").fill("Team budget")
        page.get_by_text("A team", exact=True).click()
        page.get_by_test_id("stSelectbox").filter(has_text="Team (for a team budget)").click()
        page.get_by_role("option", name=team, exact=True).click()
        page.get_by_label("Monthly amount (USD)").fill(budget)
        page.get_by_label("Alert at % of forecast spend").fill("")
        page.get_by_role("button", name="Save budget").click()
        expect(page.get_by_text("Team budget is saved.")).to_be_visible()
        expect(page.get_by_label("Name")).to_have_value("")  # a fresh form for the next one
        expect(page.get_by_text(re.compile(r"^4[23]% of the budget$"))).to_be_visible()
        screenshot(page, "budget-created")

        _fleetspend(seeded_database_url, "ingest",
                    str(_usage_file(tmp_path, app_name, range(6, 12))))
        env = {"FLEETSPEND_SMTP_HOST": "127.0.0.1", "FLEETSPEND_SMTP_PORT": str(smtp_port),
               "FLEETSPEND_BASE_URL": url}
        first = _fleetspend(seeded_database_url, "alerts", "run", **env)
        assert "1 new alerts" in first and "2 sent" in first, first
        second = _fleetspend(seeded_database_url, "alerts", "run", **env)
        assert "0 new alerts" in second and "0 sent" in second, second

        _sidebar_says(page, "1 unread alert")
        nav.get_by_role("link", name="Alerts").click()
        expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
        screenshot(page, "alerts-inbox")
        pick_row(page, 0, 0)
        title = "Team budget: 80% of the budget spent"
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        expect(page.get_by_text(re.compile(r"spent \$[\d.,]+ of its \$[\d.,]+ budget for "
                                           "December 2026 \\(85%\\)"))).to_be_visible()
        screenshot(page, "alert")
        alert_url = page.url

        page.get_by_role("link", name="Open this view in the usage explorer").click()
        expect(page.get_by_role("heading", name="Usage explorer", level=1)).to_be_visible()
        expect(page).to_have_url(re.compile(r"team=\d+"))
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.goto(alert_url)
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(f"^{app_name} "))).to_be_visible()
        page.get_by_role("link", name=re.compile(r"^b0d9e7a1c3[0-9a-f]{4} of ")).first.click()
        expect(page.get_by_role("heading", name=re.compile("b0d9e7a1c3"))).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, "alert-machine")
        page.goto(alert_url)

        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        _sidebar_says(page, "1 unread alert")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_text("Acknowledged.")).to_be_visible()
        _sidebar_says(page, "0 unread alerts")

    assert len(mailbox.received) == 1
    recipients, message = mailbox.received[0]
    assert recipients == ["ops@acme.example"] and title in message["Subject"]
    assert len(hook.requests) == 1
    headers, body = hook.requests[0]
    assert delivery.is_valid_signature(SECRET, headers["x-fleetspend-timestamp"], body,
                                       headers["x-fleetspend-signature"])
