"""Billing the seeded history (demo and large scales), through the billing engine's own API.

As of the window's end (:data:`~fleetspend.seed.plan.WINDOW_END`, a date inside November):

- every month of the window that has ended is finalized (August to October);
- the month the window ends in is drafted: the upcoming invoice;
- two disputes settled with credit notes (:data:`SETTLED`);
- two disputes left open (:data:`OPEN_CASES`). :data:`OPEN_DISPUTE`: after October was
  finalized, the meter re-sent two days of one machine's hours with no runtime (it had been
  billed while stuck in a failed start). The correction goes through the importer like any
  late usage, so the finalized invoice now bills more than its usage re-rates to; the
  upcoming invoice, drafted after it, carries the difference as a negative adjustment line,
  and the dispute workbench shows that machine's difference and where it is carried (a
  credit note would refund it twice). :data:`OPEN_OVERCHARGE`: an SLA credit the ticket
  names for a platform maintenance; the invoice re-rates exactly, nothing carries it, and a
  credit note is the resolution.

Each step is its own transaction after the seed's load; rerunning it changes nothing sealed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from fleetspend.billing.credit_notes import issue_credit_note
from fleetspend.billing.invoices import draft_month, finalize_month
from fleetspend.ingest import ingest_file
from fleetspend.seed.plan import ScalePlan
from fleetspend.sqlfiles import SqlFolder

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Dispute:
    """A customer's question about one month's invoice, and the support ticket it has."""

    org_slug: str
    month: date
    ticket: str
    reason: str
    credit_cents: int = 0  # settled disputes only


SETTLED = (
    Dispute("kiwi-health", date(2026, 9, 1), "T-1001",
            "Runaway app refund: autoscaler loop, see the incident report", 2_500),
    Dispute("sabi-pay", date(2026, 8, 1), "T-1002",
            "Goodwill credit for the Johannesburg network incident", 1_200),
)
OPEN_DISPUTE = Dispute(
    "acme-robotics", date(2026, 10, 1), "T-2001",
    "The customer says one machine was billed for two days at the end of October while it "
    "was stuck in a failed start")
# The second open case, one a credit note settles: lumen-studio's machines in gru were
# unreachable during the platform's maintenance while they ran and were metered, so the
# invoice re-rates exactly (nothing for a later invoice to carry) and the SLA owes the credit
# the ticket names.
OPEN_OVERCHARGE = Dispute(
    "lumen-studio", date(2026, 10, 1), "T-2002",
    "SLA credit: platform maintenance in São Paulo (gru) on October 21 left the machines "
    "unreachable for eight hours while they ran and were billed", 1_500)
OPEN_CASES = (OPEN_DISPUTE, OPEN_OVERCHARGE)
# the two days the meter re-sent for the open dispute's machine
CORRECTED_FROM = datetime.fromisoformat("2026-10-30T00:00:00+00:00")
CORRECTED_UNTIL = CORRECTED_FROM + timedelta(days=2)

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")


def _months(plan: ScalePlan) -> tuple[list[date], date]:
    """The window's ended months, and the month it ends in."""
    current = date(plan.window_end.year, plan.window_end.month, 1)
    month, ended = date(plan.window_start.year, plan.window_start.month, 1), []
    while month < current:
        ended.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return ended, current


def _invoice_number(engine: Engine, dispute: Dispute) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            _STATEMENTS.sql("invoice_number_of_month"),
            {"slug": dispute.org_slug, "month": dispute.month}).scalar()


def _settle(engine: Engine, dispute: Dispute, staff_user_id: int) -> None:
    number = _invoice_number(engine, dispute)
    if number is None:
        return
    issue_credit_note(engine, invoice_number=number, amount_cents=dispute.credit_cents,
                      reason=dispute.reason, support_ticket=dispute.ticket,
                      issued_by=staff_user_id)


def _resend_disputed_hours(engine: Engine) -> int:
    """Import the open dispute's corrected hours (runtime 0); returns how many were re-sent."""
    with engine.connect() as connection:
        hours = connection.execute(_STATEMENTS.sql("disputed_hours"), {
            "slug": OPEN_DISPUTE.org_slug, "start": CORRECTED_FROM, "end": CORRECTED_UNTIL,
        }).all()
    if not hours:
        return 0
    with tempfile.TemporaryDirectory(prefix="fleetspend-dispute-") as folder:
        path = Path(folder) / "late-correction.jsonl"
        path.write_text("".join(json.dumps({
            "record": "machine_usage", "org": row.slug, "machine_id": row.machine_id,
            "hour_at": row.hour_at.isoformat(), "preset": row.preset_code,
            "memory_mb": row.memory_mb, "runtime_seconds": 0,
            "stopped_rootfs_gb_seconds": str(row.stopped_rootfs_gb_seconds),
            "egress_internet_gb": str(row.egress_internet_gb),
            "egress_private_gb": str(row.egress_private_gb),
            "dedicated_ipv4_seconds": row.dedicated_ipv4_seconds,
        }) + "\n" for row in hours))
        ingest_file(engine, path)
    return len(hours)


def bill_history(engine: Engine, plan: ScalePlan, progress: Progress | None = None) -> None:
    """Finalize the window's ended months, draft the current one, settle two disputes and
    leave one open (see the module docstring)."""
    report = progress or (lambda fraction, message: None)
    ended, current = _months(plan)
    for done, month in enumerate(ended):
        report(done / (len(ended) + 2), f"finalizing the invoices of {month:%B %Y}")
        finalize_month(engine, month, now=plan.window_end)
    report(len(ended) / (len(ended) + 2), "recording the support cases")
    with engine.connect() as connection:
        staff_user_id = connection.execute(_STATEMENTS.sql("first_staff_user")).scalar_one()
    for dispute in SETTLED:
        _settle(engine, dispute, staff_user_id)
    _resend_disputed_hours(engine)
    # drafted last, so the upcoming invoice carries the late correction as an adjustment
    report((len(ended) + 1) / (len(ended) + 2),
           f"drafting the upcoming invoices ({current:%B %Y})")
    draft_month(engine, current)
    report(1.0, "invoices ready")
