"""Credit notes: the only way to correct a finalized invoice.

``issue_credit_note`` runs in one transaction: it locks the invoice row (``FOR UPDATE``), so
concurrent credits against one invoice queue up and each sees the credits before it; checks
that the invoice is finalized or paid and that the amount fits in what is left to credit; and
inserts the note. The database does the rest (migration 0002): a trigger adds the note to the
invoice's credits and total in the same statement, and the invoice's check constraint
``credits_cents <= subtotal_cents`` refuses over-crediting even from outside this function.
Credit notes never change; a mistake is corrected by another note.

Credit note numbers read ``CN-<invoice number>-<n>``, n counting from 1 per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from fleetspend.billing import invoice_status, statements
from fleetspend.billing.rating import BillingError


class CreditNoteError(BillingError):
    """A credit note that cannot be issued (wrong invoice state, amount or details)."""


@dataclass(frozen=True)
class CreditNote:
    """A credit note as issued, with the invoice's figures after it."""

    credit_note_number: str
    invoice_number: str
    amount_cents: int
    issued_at: datetime
    invoice_credits_cents: int
    invoice_total_cents: int
    # False when the request had been issued already (a double submit): nothing more credited
    is_new: bool = True


def issue_credit_note(engine: Engine, *, invoice_number: str, amount_cents: int, reason: str,
                      support_ticket: str, issued_by: int) -> CreditNote:
    """Credit ``amount_cents`` against a finalized or paid invoice, in one transaction."""
    with engine.begin() as connection:
        return issue_credit_note_in(connection, invoice_number=invoice_number,
                                    amount_cents=amount_cents, reason=reason,
                                    support_ticket=support_ticket, issued_by=issued_by)


def issue_credit_note_in(connection: Connection, *, invoice_number: str, amount_cents: int,
                         reason: str, support_ticket: str, issued_by: int) -> CreditNote:
    """:func:`issue_credit_note` inside the caller's transaction (which it leaves open).

    The owner's connection only: the app's role credits through the database function
    ``fleetspend_auth.issue_support_credit`` (migration 0010), which applies the same rules.
    """
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise CreditNoteError(f"amount_cents must be a positive whole number of cents, "
                              f"got {amount_cents!r}")
    if not reason.strip():
        raise CreditNoteError("a credit note needs a reason")
    if not support_ticket.strip():
        raise CreditNoteError("a credit note needs the support ticket it answers")
    invoice = connection.execute(
        statements.sql("lock_invoice_for_credit"), {"invoice_number": invoice_number}
    ).one_or_none()
    if invoice is None:
        raise CreditNoteError(f"no invoice numbered {invoice_number!r}")
    if not invoice_status.is_creditable(invoice.status):
        raise CreditNoteError(
            f"invoice {invoice_number} is {invoice.status}; only finalized or paid "
            "invoices take credit notes"
        )
    creditable = invoice_status.left_to_credit(invoice.subtotal_cents, invoice.credits_cents)
    if amount_cents > creditable:
        raise CreditNoteError(
            f"invoice {invoice_number}: {amount_cents} cents would over-credit it; "
            f"{creditable} of {invoice.subtotal_cents} cents are left to credit"
        )
    note = connection.execute(statements.sql("insert_credit_note"), {
        "org_id": invoice.org_id, "invoice_id": invoice.invoice_id,
        "invoice_number": invoice_number, "amount_cents": amount_cents,
        "reason": reason.strip(), "support_ticket": support_ticket.strip(),
        "issued_by": issued_by,
    }).one()
    after = connection.execute(
        statements.sql("invoice_credit_figures"),
        {"org_id": invoice.org_id, "invoice_id": invoice.invoice_id},
    ).one()
    return CreditNote(
        credit_note_number=note.credit_note_number, invoice_number=invoice_number,
        amount_cents=amount_cents, issued_at=note.issued_at,
        invoice_credits_cents=after.credits_cents, invoice_total_cents=after.total_cents,
    )
