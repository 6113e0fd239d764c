"""Sending alerts: email over SMTP and signed webhooks, retried with backoff, every attempt
logged.

Evaluation queues one delivery per new alert and channel and commits; sending comes after,
so a slow or dead SMTP server or webhook never holds up evaluation or an import, and an
alert is in the inbox whatever happens to its deliveries. :func:`deliver_due` takes the
deliveries that are due, each under a row lock (``for update skip locked``: two runs never
send the same one at once), and tries each up to ``attempts_per_run`` times with a short
backoff; each attempt is a row of ``delivery_attempts`` (the admins' delivery log) written
with the delivery's new state in one transaction. A delivery that still fails is due again
after ``retry_after`` doubled per attempt (at most an hour), and gives up (``failed``) after
``max_attempts``. Nothing is lost: an alert whose email could not go out stays queued.
Delivery is at least once: a process killed between a send and its commit sends again, so
receivers should treat ``X-Fleetspend-Delivery`` as an idempotency key.

Email: one message per alert to the organization's recipients, through the SMTP server of
:class:`SmtpSettings` (environment, else the ``[smtp]`` section of .streamlit/secrets.toml).

Webhooks: a POST of JSON that a Slack incoming webhook accepts (``text``, in Slack's mrkdwn
with ``&``, ``<`` and ``>`` escaped so that names never ping a channel or make a link),
with the alert's fields under ``fleetspend_alert``; signed with HMAC-SHA256 over
``"{timestamp}." + body`` in ``X-Fleetspend-Signature: sha256=<hex>`` (the timestamp in
``X-Fleetspend-Timestamp``, Unix seconds); see :func:`signature`. Redirects are not
followed. Secrets never reach the log: the SMTP password is not in any repr, webhook
secrets are read only here, and errors record the failure, never the request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine

from fleetspend.alerts import statements

SMTP_ENV = "FLEETSPEND_SMTP_"
BASE_URL_ENV = "FLEETSPEND_BASE_URL"
DEFAULT_BASE_URL = "http://localhost:8501"
SECRETS_FILE = Path(".streamlit/secrets.toml")
ERROR_LIMIT = 500  # characters of an error kept in the log


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server; the password never appears in a repr or a log."""

    host: str
    sender: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_s: float = 10.0

    @classmethod
    def configured(cls, environ: Mapping[str, str] | None = None,
                   secrets_file: Path = SECRETS_FILE) -> SmtpSettings | None:
        """From FLEETSPEND_SMTP_HOST, _PORT, _USERNAME, _PASSWORD, _FROM and _STARTTLS, each
        else from the ``[smtp]`` section of ``secrets_file`` (host, port, username, password,
        sender, starttls); None without a host."""
        environ = os.environ if environ is None else environ
        section: dict = {}
        if secrets_file.is_file():
            section = tomllib.loads(secrets_file.read_text(encoding="utf-8")).get("smtp", {})

        def setting(name: str, key: str) -> str | None:
            value = environ.get(SMTP_ENV + name) or section.get(key)
            return None if value in (None, "") else str(value)

        host = setting("HOST", "host")
        if host is None:
            return None
        return cls(host=host, sender=setting("FROM", "sender") or "alerts@fleetspend.invalid",
                   port=int(setting("PORT", "port") or 25), username=setting("USERNAME",
                                                                            "username"),
                   password=setting("PASSWORD", "password"),
                   starttls=(setting("STARTTLS", "starttls") or "").lower() in ("1", "true"))


@dataclass(frozen=True)
class Policy:
    """How hard to try: attempts within one run and their backoff, then between runs."""

    attempts_per_run: int = 3
    backoff_s: float = 0.5  # before the second attempt of a run; doubles after each
    retry_after: timedelta = timedelta(minutes=1)  # before the next run's; doubles
    max_retry_after: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    timeout_s: float = 10.0
    batch: int = 500


@dataclass
class Summary:
    """What one pass over the due deliveries did."""

    sent: int = 0
    pending: int = 0
    failed: int = 0

    def describe(self) -> str:
        return (f"deliveries: {self.sent} sent, {self.pending} to retry later, "
                f"{self.failed} given up")


@dataclass(frozen=True)
class Outcome:
    is_success: bool
    status_code: int | None = None
    error: str | None = None


def base_url() -> str:
    """Where the app is served, for the links in emails and webhooks (FLEETSPEND_BASE_URL)."""
    return os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL).rstrip("/")


def alert_url(row: Mapping, root: str) -> str:
    """The link to the view that shows why an alert fired, in the alert's organization."""
    page = Path(row["link_page"]).stem
    params = {**row["link_params"], "org": row["org_slug"]}
    return f"{root}/{page}?{urlencode(params)}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Fleetspend-Signature`` of a webhook body: ``sha256=`` and the hex HMAC."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def is_valid_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether ``header`` signs ``body`` at ``timestamp`` with ``secret`` (constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def _slack_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(row: Mapping, url: str) -> bytes:
    """The JSON a webhook receives: Slack's ``text`` and the alert's own fields."""
    message = (f"*{_slack_text(row['title'])}*\n{_slack_text(row['explanation'])}\n"
               f"<{url}|See why in fleetspend>")
    return json.dumps({
        "text": message,
        "fleetspend_alert": {
            "alert_id": row["alert_id"], "organization": row["org_slug"], "kind": row["kind"],
            "title": row["title"], "explanation": row["explanation"],
            "fired_at": row["fired_at"].astimezone(UTC).isoformat(),
            "threshold_percent": row["threshold_percent"], "spent_cents": row["spent_cents"],
            "budget_cents": row["budget_cents"], "forecast_cents": row["forecast_cents"],
            "url": url},
    }, sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LIMIT]


def send_webhook(row: Mapping, url: str, timeout_s: float) -> Outcome:
    """POST the alert to its webhook, signed; any 2xx answer is success."""
    body = webhook_body(row, url)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(row["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "fleetspend-alerts",
        "X-Fleetspend-Timestamp": timestamp,
        "X-Fleetspend-Signature": signature(row["secret"], timestamp, body),
        "X-Fleetspend-Delivery": str(row["delivery_id"]),
    })
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return Outcome(200 <= response.status < 300, response.status)
    except urllib.error.HTTPError as error:
        return Outcome(False, error.code, f"HTTP {error.code}")
    except (OSError, ValueError) as error:
        return Outcome(False, None, _short(error))


def email_message(row: Mapping, url: str, sender: str) -> EmailMessage:
    """The alert as one plain-text email to the delivery's recipients."""
    message = EmailMessage()
    message["Subject"] = f"[fleetspend] {row['title']}"
    message["From"] = sender
    message["To"] = ", ".join(row["recipients"])
    message["X-Fleetspend-Alert"] = str(row["alert_id"])
    message.set_content(f"{row['explanation']}\n\nSee why: {url}\n\n"
                        f"Fired at {row['fired_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC.\n")
    return message


def send_email(row: Mapping, url: str, smtp: SmtpSettings | None) -> Outcome:
    """Send the alert's email through ``smtp``; not configured is a failed attempt too."""
    if smtp is None:
        return Outcome(False, None, "SMTP is not configured (FLEETSPEND_SMTP_HOST or [smtp] "
                                    "in .streamlit/secrets.toml)")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(email_message(row, url, smtp.sender))
        return Outcome(True, 250)
    except smtplib.SMTPResponseException as error:
        return Outcome(False, error.smtp_code, _short(error))
    except (OSError, smtplib.SMTPException) as error:
        return Outcome(False, None, _short(error))


def _retry_at(attempts: int, policy: Policy) -> datetime:
    wait = min(policy.retry_after * 2 ** max(attempts - 1, 0), policy.max_retry_after)
    return datetime.now(UTC) + wait


def _attempt(engine: Engine, org_id: int, delivery_id: int, smtp: SmtpSettings | None,
             policy: Policy, root: str) -> str | None:
    """One attempt at one delivery, logged with its new state; that state (None: someone
    else holds it, or it is no longer pending)."""
    with engine.begin() as connection:
        row = connection.execute(statements.sql("claim_delivery"),
                                 {"org_id": org_id, "delivery_id": delivery_id}).mappings().first()
        if row is None:
            return None
        url = alert_url(row, root)
        started = time.monotonic()
        outcome = (send_email(row, url, smtp) if row["channel"] == "email"
                   else send_webhook(row, url, policy.timeout_s))
        attempts = row["attempts"] + 1
        status = ("sent" if outcome.is_success
                  else "failed" if attempts >= policy.max_attempts else "pending")
        connection.execute(statements.sql("insert_delivery_attempt"), {
            "org_id": org_id, "delivery_id": delivery_id, "is_success": outcome.is_success,
            "status_code": outcome.status_code, "error": outcome.error,
            "duration_ms": round((time.monotonic() - started) * 1000)})
        connection.execute(statements.sql("update_delivery"), {
            "org_id": org_id, "delivery_id": delivery_id, "status": status,
            "next_attempt_at": _retry_at(attempts, policy)})
        return status


def deliver_due(engine: Engine, smtp: SmtpSettings | None, policy: Policy | None = None,
                now: datetime | None = None) -> Summary:
    """Send every delivery due at ``now`` (default: the database's now), as the schema
    owner; see the module docstring."""
    policy = policy or Policy()
    root = base_url()
    summary = Summary()
    with engine.connect() as connection:
        due = connection.execute(statements.sql("due_deliveries"), {"now": now or datetime.now(UTC),
                                           "batch": policy.batch}).all()
    for org_id, delivery_id in due:
        status = None
        for attempt in range(policy.attempts_per_run):
            if attempt:
                time.sleep(policy.backoff_s * 2 ** (attempt - 1))
            status = _attempt(engine, org_id, delivery_id, smtp, policy, root)
            if status != "pending":
                break
        if status == "sent":
            summary.sent += 1
        elif status == "failed":
            summary.failed += 1
        elif status == "pending":
            summary.pending += 1
    return summary
