"""What an admin types into a budget and what a webhook receives, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from fleetspend.alerts import budgets, delivery, settings
from fleetspend.alerts.budgets import BudgetError


@pytest.mark.parametrize(("typed", "cents"), [
    ("1250", 125_000), ("$1,250.50", 125_050), (" 0.01 ", 1)])
def test_amounts_are_whole_cents(typed, cents):
    assert budgets.parse_cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "0", "-5", "1.001", "ten", "NaN", "Infinity"])
def test_amounts_that_are_not_money_are_refused(typed):
    with pytest.raises(BudgetError):
        budgets.parse_cents(typed)


def test_thresholds_are_whole_percents_each_once():
    assert budgets.parse_thresholds("100, 50%, 80, 50", "thresholds") == (50, 80, 100)
    assert budgets.parse_thresholds("  ", "thresholds") == ()
    for typed in ("0", "1001", "7.5", "٥٠"):
        with pytest.raises(BudgetError):
            budgets.parse_thresholds(typed, "thresholds")


def test_month_amounts_name_their_line():
    assert budgets.parse_month_amounts("2026-12: 1500\n\n2027-01: 99.99") == {
        date(2026, 12, 1): 150_000, date(2027, 1, 1): 9_999}
    with pytest.raises(BudgetError, match="line 2"):
        budgets.parse_month_amounts("2026-12: 1500\nDecember: 3")


def test_a_budget_covers_exactly_what_its_kind_says():
    with pytest.raises(BudgetError):
        budgets.BudgetScope(budgets.TEAM)
    with pytest.raises(BudgetError):
        budgets.BudgetScope(budgets.ORGANIZATION, team_id=3)
    assert budgets.BudgetScope(budgets.APP, app_id=4).params() == {"team_ids": None,
                                                                   "app_ids": [4]}


def test_recipients_are_checked():
    assert settings.parse_recipients("B@x.example, a@x.example\nb@x.example") == [
        "a@x.example", "b@x.example"]
    with pytest.raises(BudgetError):
        settings.parse_recipients("a@x.example, not an address")


def test_a_webhook_body_is_slack_text_that_names_cannot_turn_into_mentions_or_links():
    row = {"alert_id": 7, "org_slug": "acme", "kind": "actual", "threshold_percent": 80,
           "title": "<!channel> & <https://evil.example|click>", "explanation": "a > b",
           "fired_at": datetime(2026, 12, 1, 6, tzinfo=UTC), "spent_cents": 550,
           "budget_cents": 647, "forecast_cents": None}
    body = json.loads(delivery.webhook_body(row, "https://spend.example/alert?x=1"))
    assert body["text"].startswith("*&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;*")
    assert "a &gt; b" in body["text"]
    assert body["text"].endswith("<https://spend.example/alert?x=1|See why in fleetspend>")
    assert body["fleetspend_alert"]["title"] == row["title"]  # the raw value, as data
    assert body["fleetspend_alert"]["fired_at"] == "2026-12-01T06:00:00+00:00"


def test_the_signature_covers_the_timestamp_and_the_body():
    signed = delivery.signature("0123456789abcdef", "1796469600", b"{}")
    assert signed.startswith("sha256=") and len(signed) == 7 + 64
    assert delivery.is_valid_signature("0123456789abcdef", "1796469600", b"{}", signed)
    assert not delivery.is_valid_signature("0123456789abcdef", "1796469601", b"{}", signed)
    assert not delivery.is_valid_signature("0123456789abcdef", "1796469600", b"{ }", signed)


def test_smtp_settings_come_from_the_environment_before_secrets(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "mail.internal"\nport = 2525\npassword = "p4ss"\n')
    from_file = delivery.SmtpSettings.configured({}, secrets)
    assert (from_file.host, from_file.port, from_file.password) == ("mail.internal", 2525,
                                                                    "p4ss")
    assert "p4ss" not in repr(from_file)
    overridden = delivery.SmtpSettings.configured({"FLEETSPEND_SMTP_HOST": "relay"}, secrets)
    assert (overridden.host, overridden.port) == ("relay", 2525)
    assert delivery.SmtpSettings.configured({}, tmp_path / "none.toml") is None
