"""Alert delivery against real local servers: an email through an SMTP server (aiosmtpd) and
a signed webhook through an HTTP server, retried with backoff, every attempt logged; an SMTP
server that is down loses nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from fleetspend import db
from fleetspend.alerts import budgets, delivery, evaluate, inbox, settings
from fleetspend.alerts.budgets import BudgetDraft, BudgetScope
from tests.conftest import engine_for
from tests.db.alert_builders import days_of, import_days, make_tenant
from tests.local_servers import free_port, smtp_server, webhook_server

SECRET = "s3cret-for-tests-0123456789"
QUICK = delivery.Policy(backoff_s=0.01)


@pytest.fixture
def app_engine(database_url):
    engine = engine_for(db.as_app_role(database_url))
    yield engine
    engine.dispose()


def _alert_with_deliveries(engine, app_engine, tmp_path, hook_url: str):
    """acme's core team past 80% of its budget, with a recipient and a webhook: one alert,
    two deliveries queued."""
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(date(2026, 11, 1), 10), {"web": 1})
    settings.set_recipients(app_engine, tenant.admin, tenant.org_id, ["ops@acme.example"])
    settings.add_webhook(app_engine, tenant.admin, tenant.org_id, "chat", hook_url, SECRET)
    with engine.connect() as connection:
        spent = connection.execute(text("select sum(amount_precise) * 100 from rollup_org_daily")
                                   ).scalar_one()
    budgets.save_budget(app_engine, tenant.admin, tenant.org_id, BudgetDraft(
        "Core", BudgetScope(budgets.TEAM, tenant.team_ids["core"]), int(spent * 100 / 85),
        forecast_thresholds=()))
    assert len(evaluate.evaluate_all(engine).alert_ids) == 1
    return tenant


def _attempts(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "select channel, is_success, status_code from delivery_attempts "
            "join alert_deliveries using (org_id, delivery_id) order by attempt_id"))]


def test_email_and_a_webhook_that_fails_twice_then_succeeds(engine, app_engine, tmp_path,
                                                             monkeypatch):
    with smtp_server() as (mailbox, port), webhook_server([500, 503]) as hook:
        monkeypatch.setenv("FLEETSPEND_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("FLEETSPEND_SMTP_PORT", str(port))
        monkeypatch.setenv("FLEETSPEND_BASE_URL", "https://spend.example")
        _alert_with_deliveries(engine, app_engine, tmp_path, hook.url)
        smtp = delivery.SmtpSettings.configured()
        summary = delivery.deliver_due(engine, smtp, QUICK)
        assert (summary.sent, summary.pending, summary.failed) == (2, 0, 0)
        again = delivery.deliver_due(engine, smtp, QUICK,
                                     now=datetime.now(UTC) + timedelta(days=1))
        assert (again.sent, again.pending) == (0, 0)
    assert len(mailbox.received) == 1
    recipients, message = mailbox.received[0]
    assert recipients == ["ops@acme.example"]
    assert message["Subject"] == "[fleetspend] Core: 80% of the budget spent"
    text_body = message.get_payload(decode=True).decode()
    assert "https://spend.example/explorer?" in text_body
    assert "by=app" in text_body and "org=acme" in text_body
    assert len(hook.requests) == 3
    headers, body = hook.requests[-1]
    assert delivery.is_valid_signature(SECRET, headers["x-fleetspend-timestamp"], body,
                                       headers["x-fleetspend-signature"])
    assert not delivery.is_valid_signature("another-secret-000000", headers[
        "x-fleetspend-timestamp"], body, headers["x-fleetspend-signature"])
    payload = json.loads(body)
    assert payload["text"].startswith("*Core: 80% of the budget spent*")
    assert payload["fleetspend_alert"]["threshold_percent"] == 80
    assert sorted(_attempts(engine)) == sorted([
        ("email", True, 250), ("webhook", False, 500), ("webhook", False, 503),
        ("webhook", True, 200)])


def test_an_smtp_server_that_is_down_loses_nothing(engine, app_engine, tmp_path, monkeypatch):
    port = free_port()  # nothing listens there yet
    monkeypatch.setenv("FLEETSPEND_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FLEETSPEND_SMTP_PORT", str(port))
    with webhook_server() as hook:
        tenant = _alert_with_deliveries(engine, app_engine, tmp_path, hook.url)
        summary = delivery.deliver_due(engine, delivery.SmtpSettings.configured(), QUICK)
    assert (summary.sent, summary.pending) == (1, 1)
    assert _attempts(engine).count(("email", False, None)) == QUICK.attempts_per_run
    with engine.connect() as connection:
        unread = inbox.unread_count(connection, tenant.org_id, tenant.admin.actor_id)
        waiting = connection.execute(text(
            "select status, next_attempt_at > now() from alert_deliveries "
            "where channel = 'email'")).one()
    assert unread == 1  # in the inbox whatever happens to its email
    assert tuple(waiting) == ("pending", True)
    # not due yet: the next run leaves it; once due, and the server is up, it goes out once
    assert delivery.deliver_due(engine, delivery.SmtpSettings.configured(), QUICK).pending == 0
    with smtp_server(port) as (mailbox, _port):
        later = datetime.now(UTC) + timedelta(hours=2)
        assert delivery.deliver_due(engine, delivery.SmtpSettings.configured(), QUICK,
                                    now=later).sent == 1
        assert delivery.deliver_due(engine, delivery.SmtpSettings.configured(), QUICK,
                                    now=later).sent == 0
    assert len(mailbox.received) == 1
    assert len(hook.requests) == 1


def test_a_delivery_gives_up_after_its_attempts(engine, app_engine, tmp_path):
    with webhook_server([500] * 10) as hook:
        _alert_with_deliveries(engine, app_engine, tmp_path, hook.url)
        policy = delivery.Policy(backoff_s=0.01, max_attempts=4)
        first = delivery.deliver_due(engine, None, policy)
        later = delivery.deliver_due(engine, None, policy,
                                     now=datetime.now(UTC) + timedelta(hours=2))
    assert (first.pending, later.failed) == (2, 2)  # the email without SMTP, the webhook
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select channel, status, attempts from alert_deliveries order by channel")).all()
    assert [tuple(row) for row in rows] == [("email", "failed", 4), ("webhook", "failed", 4)]


def test_secrets_stay_out_of_reach_of_the_app_and_of_logs(engine, app_engine, tmp_path):
    smtp = delivery.SmtpSettings(host="mail.example", sender="a@b.example", username="u",
                                 password="smtp-password-123")
    assert "smtp-password-123" not in repr(smtp)
    with webhook_server() as hook:
        tenant = _alert_with_deliveries(engine, app_engine, tmp_path, hook.url)
    with app_engine.begin() as connection:
        db.set_local(connection, db.Scope(user_id=tenant.admin.actor_id).settings())
        with pytest.raises(ProgrammingError):
            connection.execute(text("select secret from alert_webhooks")).all()
    with app_engine.begin() as connection:
        db.set_local(connection, db.Scope(user_id=tenant.admin.actor_id).settings())
        shown = settings.read_settings(connection, tenant.org_id)
        audited = connection.execute(text("select detail::text from audit_events")).scalars()
        assert SECRET not in " ".join(audited)
    assert SECRET not in shown.to_string()
    assert list(shown.channel) == ["email", "webhook"]
