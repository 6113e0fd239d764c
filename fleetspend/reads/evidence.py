"""The evidence bundle of a disputed invoice: one zip of CSV files that reconciles to the cent.

Files (money in integer cents, precise amounts as exact decimals, times in UTC):

- ``invoice.csv``: the invoice's header: number, organization, period, status, subtotal,
  credits and total;
- ``lines.csv``: every line, with quantity, unit price and precise and rounded amounts;
- ``allocations.csv``: every line's share on each machine or volume;
- ``credit_notes.csv``: the credit notes against it;
- ``rerating_lines.csv`` and ``rerating_resources.csv``: billed against re-rated from the raw
  usage, per line and per machine or volume (:mod:`fleetspend.reads.dispute`);
- ``differences.csv``: every field re-rating does not reproduce (just a header when none);
- ``README.txt``: who exported it, when, under which grant and ticket, what each file holds,
  and the reconciliation checks with their results.

:func:`build` reads all of it in one REPEATABLE READ transaction on the primary under the
support engineer's grant (the re-rating needs the primary), writes the export's audit event
in the same transaction and commits, so every bundle handed out is on record.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine

from fleetspend import auth
from fleetspend.csvfile import to_csv
from fleetspend.reads import invoice_drill as drill
from fleetspend.reads.dispute import primary_transaction, rerate_in
from queries import sql

ALLOCATION_COLUMNS = ["line_no", "resource_kind", "resource_id", "app_id", "app_name",
                      "consumed_quantity", "quantity", "amount_precise", "amount_cents"]


class EvidenceError(LookupError):
    """No bundle can be made (e.g. the invoice is not in the grant's organization)."""


@dataclass(frozen=True)
class Check:
    """One reconciliation: what is compared, the two sides in cents, and whether they agree."""

    label: str
    left_cents: int
    right_cents: int

    @property
    def ok(self) -> bool:
        return self.left_cents == self.right_cents

    def describe(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        return f"{verdict}: {self.label}: {self.left_cents} = {self.right_cents} cents"


def checks(invoice: drill.Invoice, lines: pd.DataFrame, allocations: pd.DataFrame,
           credits: pd.DataFrame, rerated_lines: pd.DataFrame) -> list[Check]:
    """The sums a bundle must satisfy, each computed from the files' own rows."""
    def total(frame: pd.DataFrame, column: str) -> int:
        return sum(int(value) for value in frame[column].dropna())

    return [
        Check("sum of lines.amount_cents vs invoice subtotal", total(lines, "amount_cents"),
              invoice.subtotal_cents),
        Check("sum of allocations.amount_cents vs invoice subtotal",
              total(allocations, "amount_cents"), invoice.subtotal_cents),
        Check("sum of credit_notes.amount_cents vs invoice credits",
              total(credits, "amount_cents"), invoice.credits_cents),
        Check("invoice subtotal - credits vs invoice total",
              invoice.subtotal_cents - invoice.credits_cents, invoice.total_cents),
        Check("sum of rerating_lines.billed_cents vs invoice subtotal",
              total(rerated_lines, "billed_cents"), invoice.subtotal_cents),
        Check("sum of rerating_lines.rerated_cents vs invoice subtotal",
              total(rerated_lines, "rerated_cents"), invoice.subtotal_cents),
    ]


def _readme(invoice: drill.Invoice, caller: auth.Caller, grant: auth.SupportGrant,
            made_at: datetime, results: list[Check]) -> str:
    return "\n".join([
        f"Evidence for invoice {invoice.invoice_number} of {invoice.org_name} "
        f"({invoice.org_slug}), {invoice.month_label}, status {invoice.status}.",
        f"Exported {made_at:%Y-%m-%d %H:%M:%S} UTC by {caller.name} <{caller.email}> under "
        f"support grant {grant.grant_id}, ticket {grant.support_ticket}.",
        "",
        "Money is in integer cents (amount_cents) beside the unrounded amount "
        "(amount_precise); times are UTC.",
        "invoice.csv             the invoice: subtotal, credits, total",
        "lines.csv               every line: quantity x unit price, rounded once to cents",
        "allocations.csv         every line's share on each machine or volume",
        "credit_notes.csv        credit notes against the invoice",
        "rerating_lines.csv      billed vs re-rated from raw usage, per line",
        "rerating_resources.csv  billed vs re-rated from raw usage, per machine or volume",
        "differences.csv         every field re-rating does not reproduce (none: header only)",
        "",
        "Reconciliation:",
        *(check.describe() for check in results),
        "",
    ])


def build(engine: Engine, caller: auth.Caller, grant: auth.SupportGrant,
          invoice_number: str) -> bytes:
    """The zip for ``invoice_number`` of the grant's organization, audited as exported.

    ``engine`` is the primary as the app's role. Raises :class:`EvidenceError` when the
    organization has no such invoice (nothing is written then).
    """
    made_at = datetime.now(UTC)
    with primary_transaction(engine, auth.scope_for(caller, grant=grant)) as connection:
        invoice = drill.invoice(connection, grant.org_id, invoice_number)
        if invoice is None:
            raise EvidenceError(f"this organization has no invoice numbered {invoice_number!r}")
        lines = drill.invoice_lines(connection, grant.org_id, invoice.invoice_id)
        allocations = pd.DataFrame(
            connection.execute(sql("invoice_allocations"),
                               {"org_id": grant.org_id, "invoice_id": invoice.invoice_id}
                               ).mappings().all(), columns=ALLOCATION_COLUMNS)
        credits = drill.credit_notes(connection, grant.org_id, invoice.invoice_id)
        rerating = rerate_in(connection, grant.org_id, invoice)
        results = checks(invoice, lines, allocations, credits, rerating.lines)
        auth.record_org_event(connection, caller, grant.org_id, auth.EVIDENCE_EXPORTED, {
            "grant_id": grant.grant_id, "invoice_number": invoice_number,
            "reproduced": rerating.is_reproduced,
            "checks_ok": all(check.ok for check in results),
        })
        connection.commit()
    header = pd.DataFrame([{
        "invoice_number": invoice.invoice_number, "org_slug": invoice.org_slug,
        "org_name": invoice.org_name, "period_start_date": invoice.period_start_date,
        "status": invoice.status, "currency": invoice.currency,
        "subtotal_cents": invoice.subtotal_cents, "credits_cents": invoice.credits_cents,
        "total_cents": invoice.total_cents, "finalized_at": invoice.finalized_at,
    }])
    files = {
        "invoice.csv": to_csv(header),
        "lines.csv": to_csv(lines),
        "allocations.csv": to_csv(allocations),
        "credit_notes.csv": to_csv(credits),
        "rerating_lines.csv": to_csv(rerating.lines),
        "rerating_resources.csv": to_csv(rerating.resources),
        "differences.csv": to_csv(rerating.differences),
        "README.txt": _readme(invoice, caller, grant, made_at, results).encode("utf-8"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def file_name(invoice_number: str) -> str:
    """The bundle's download name."""
    return f"{invoice_number}-evidence.zip"
