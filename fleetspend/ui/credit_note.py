"""The dispute workbench's credit note: a form, then a confirmation, then one note.

The form only prepares a request (amount, reason, ticket) under a fresh key
(:func:`fleetspend.reads.support.new_request_key`); the engineer reads it back and confirms. The
confirmation sends the request with its key, and the database issues one note per key
(migration 0014), so a double click, a reload that replays the click, or a second tab of the
same session never credits twice: a repeated request shows the note it already made.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from fleetspend.billing.credit_notes import CreditNoteError
from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.reads import support
from fleetspend.ui import database
from fleetspend.ui.access import Visit
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

FORM_KEY = "dispute_credit"
AMOUNT_KEY = "dispute_credit_amount"
REASON_KEY = "dispute_credit_reason"
TICKET_KEY = "dispute_credit_ticket"
PENDING_KEY = "dispute_credit_pending"
CONFIRM_KEY = "dispute_credit_confirm"
CANCEL_KEY = "dispute_credit_cancel"
ISSUED_KEY = "dispute_credit_issued"


@dataclass(frozen=True)
class CreditRequest:
    """A credit note the engineer has prepared and not yet confirmed."""

    invoice_number: str
    amount_cents: int
    reason: str
    support_ticket: str
    request_key: str


def show_issued() -> None:
    """The note issued by the last confirmation, once, after the page reran."""
    issued = st.session_state.pop(ISSUED_KEY, None)
    if issued:
        st.success(issued, icon=":material/check_circle:")


def _prepare(visit: Visit, invoice: drill.Invoice, creditable: int) -> None:
    with st.form(FORM_KEY, clear_on_submit=False):
        amount = st.text_input("Amount (USD)", key=AMOUNT_KEY,
                               help=f"At most {dollars(creditable)}, what is left to credit.")
        reason = st.text_area("Reason (the customer sees it on the invoice)", key=REASON_KEY)
        ticket = st.text_input("Support ticket", value=visit.active_grant.support_ticket,
                               key=TICKET_KEY)
        submitted = st.form_submit_button("Review credit note", type="primary")
    if not submitted:
        return
    try:
        cents = support.parse_cents(amount)
    except support.SupportError as error:
        st.error(md_format("No credit note issued: {error}.", error=error),
                 icon=":material/block:")
        return
    st.session_state[PENDING_KEY] = CreditRequest(
        invoice.invoice_number, cents, reason.strip(), ticket.strip(),
        support.new_request_key())
    st.rerun()


def _confirm(visit: Visit, request: CreditRequest) -> None:
    st.warning(md_format(
        "Credit {amount} to invoice {number} (ticket {ticket})? The customer sees the reason: "
        "\u201c{reason}\u201d. A credit note cannot be undone.",
        amount=dollars(request.amount_cents), number=request.invoice_number,
        ticket=request.support_ticket, reason=request.reason), icon=":material/help:")
    issue, change = st.columns(2)
    if change.button("Change it", key=CANCEL_KEY, width="stretch"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()
    if not issue.button("Issue credit note", type="primary", key=CONFIRM_KEY, width="stretch"):
        return
    try:
        with database_errors_stop_the_page("the credit note"):
            note = support.issue_credit(
                database.primary(), visit.caller, visit.active_grant,
                invoice_number=request.invoice_number, amount_cents=request.amount_cents,
                reason=request.reason, support_ticket=request.support_ticket,
                request_key=request.request_key)
    except CreditNoteError as error:
        st.session_state.pop(PENDING_KEY, None)
        st.error(md_format("No credit note issued: {error}.", error=error),
                 icon=":material/block:")
        return
    st.session_state.pop(PENDING_KEY, None)
    st.session_state[ISSUED_KEY] = md_format(
        "Credit note {number} for {amount} {issued}. The invoice's total is now {total}.",
        number=note.credit_note_number, amount=dollars(note.amount_cents),
        issued="issued" if note.is_new else "was already issued for this request",
        total=dollars(note.invoice_total_cents))
    st.rerun()


def credit_note_section(visit: Visit, invoice: drill.Invoice, creditable: int) -> None:
    """The form, or the prepared request awaiting confirmation, for a creditable invoice."""
    request = st.session_state.get(PENDING_KEY)
    if isinstance(request, CreditRequest) and request.invoice_number == invoice.invoice_number:
        _confirm(visit, request)
    else:
        _prepare(visit, invoice, creditable)
