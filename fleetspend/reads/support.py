"""The support console's domain: search across organizations, credit notes, the audit trail.

Everything here runs on the primary as the app's role (``fleetspend.db.app_primary_engine``),
under the support engineer's scope, and is audited in the same transaction:

- :func:`search` asks ``fleetspend_auth.support_search`` (migration 0005) for organizations
  (slug or name), invoices (number), apps (name) and machines (id), exact or by prefix. It
  returns directory facts only: what matched and which organization it belongs to. Seeing
  anything inside that organization still takes a support grant (ticket and reason first).
- :func:`issue_credit` writes a credit note against a finalized or paid invoice of the
  grant's organization, and its audit event, through one database function (migration
  0010) that follows the rules of :mod:`fleetspend.billing.credit_notes`.
- :func:`activity` reads every support engineer's audited actions, with filters.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fleetspend import auth, db
from fleetspend.billing.credit_notes import CreditNote, CreditNoteError
from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parents[1] / "sql" / "support")

# SQLSTATE of a credit note the database refuses, with a message to show
CREDIT_REFUSED = "FSC01"

KINDS = {"organization": "Organization", "invoice": "Invoice", "app": "App",
         "machine": "Machine"}
MIN_SEARCH_LENGTH = 2
MAX_SEARCH_LENGTH = 64
RESULTS_PER_KIND = 20
ACTIVITY_LIMIT = 1000
ACTIONS = {
    auth.PAGE_VIEWED: "Viewed a page",
    auth.SEARCHED: "Searched",
    auth.ACCESS_OPENED: "Opened support access",
    auth.ACCESS_REVOKED: "Revoked support access",
    auth.CREDIT_NOTE_ISSUED: "Issued a credit note",
    auth.EVIDENCE_EXPORTED: "Exported evidence",
}
ACTIVITY_COLUMNS = ["occurred_at", "engineer_name", "engineer_email", "action", "org_slug",
                    "support_ticket", "detail"]

_DOLLARS = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


class SupportError(ValueError):
    """A support action that cannot be done as asked; the message says why, for a person."""


@dataclass(frozen=True)
class SearchHit:
    """One match: what it is (``kind``), its identifier, and the organization it belongs to."""

    kind: str
    identifier: str
    label: str | None
    org_id: int
    org_slug: str
    org_name: str
    is_exact: bool


def clean_search(term: str) -> str:
    """A search term trimmed and checked for length; raises :class:`SupportError`."""
    term = term.strip()
    if len(term) < MIN_SEARCH_LENGTH:
        raise SupportError(f"search for at least {MIN_SEARCH_LENGTH} characters")
    if len(term) > MAX_SEARCH_LENGTH:
        raise SupportError(f"search for at most {MAX_SEARCH_LENGTH} characters")
    return term


def search_in(connection: Connection, term: str,
              per_kind: int = RESULTS_PER_KIND) -> list[SearchHit]:
    """The directory's matches for ``term`` in the caller's transaction and scope: exact
    matches first. A customer's scope finds only their own organizations' entities."""
    rows = connection.execute(
        _STATEMENTS.sql("support_search"),
        {"term": clean_search(term), "row_limit": per_kind},
    ).mappings()
    return [SearchHit(**row) for row in rows]


def search(engine: Engine, caller: auth.Caller, term: str) -> list[SearchHit]:
    """Search the whole directory as a support engineer and audit the search, in one
    transaction on the primary (``engine`` as the app's role)."""
    if not caller.is_staff:
        raise auth.AccessRefusedError("searching across organizations is for support engineers")
    term = clean_search(term)
    with engine.begin() as connection:
        db.set_local(connection, auth.scope_for(caller).settings())
        hits = search_in(connection, term)
        auth.record_console_event(connection, caller, auth.SEARCHED,
                                  {"term": term, "results": len(hits)})
    return hits


def parse_cents(amount: str) -> int:
    """Dollars as typed (``12.34``, ``$1,200``) -> whole cents; raises :class:`SupportError`."""
    cleaned = amount.strip()
    if not _DOLLARS.match(cleaned):
        raise SupportError(f"write the amount in dollars and cents, like 12.34, not {amount!r}")
    try:
        cents = Decimal(cleaned.lstrip("$").strip().replace(",", "")) * 100
    except InvalidOperation:
        raise SupportError(f"{amount!r} is not an amount") from None
    if cents <= 0:
        raise SupportError("a credit note is for more than $0.00")
    return int(cents)


def issue_credit(engine: Engine, caller: auth.Caller, grant: auth.SupportGrant, *,
                 invoice_number: str, amount_cents: int, reason: str,
                 support_ticket: str, request_key: str | None = None) -> CreditNote:
    """Credit an invoice of the grant's organization on the primary (``engine`` as the app's
    role), through ``fleetspend_auth.issue_support_credit`` (migrations 0010 and 0014), which
    writes the note and its audit event together: the app's role cannot insert a credit note
    itself.

    ``request_key`` names the request the engineer confirmed (None: a new one). The database
    issues one note per key: submitting the same request again, even while the first is still
    being written, returns that note with ``is_new`` false and credits nothing more.

    Raises :class:`fleetspend.billing.credit_notes.CreditNoteError` for an amount over what is
    left to credit, an invoice that is not finalized or paid (or not the grant's
    organization's), or a missing reason or ticket; then nothing is written. Concurrent credits
    on one invoice queue on its row lock, and the database refuses over-crediting whatever
    happens here.
    """
    if not caller.is_staff:
        raise auth.AccessRefusedError("credit notes are issued by support engineers")
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise CreditNoteError(f"amount_cents must be a positive whole number of cents, "
                              f"got {amount_cents!r}")
    try:
        with engine.begin() as connection:
            db.set_local(connection, auth.scope_for(caller, grant=grant).settings())
            row = connection.execute(
                _STATEMENTS.sql("issue_support_credit"),
                {"invoice_number": invoice_number, "amount_cents": amount_cents,
                 "reason": reason, "support_ticket": support_ticket,
                 "request_key": request_key or new_request_key()},
            ).one()
    except DBAPIError as error:
        refused = auth.refusal(error, CREDIT_REFUSED)
        if refused is None:
            raise
        raise CreditNoteError(refused) from None
    return CreditNote(
        credit_note_number=row.credit_note_number, invoice_number=invoice_number,
        amount_cents=amount_cents, issued_at=row.issued_at,
        invoice_credits_cents=row.invoice_credits_cents,
        invoice_total_cents=row.invoice_total_cents,
        is_new=row.is_new,
    )


def new_request_key() -> str:
    """A fresh key for one credit note request (what a confirmation submits)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class ActivityFilter:
    """What the audit trail shows: a UTC time range and optional exact matches."""

    since: datetime | None = None
    until: datetime | None = None
    engineer_email: str | None = None
    org_slug: str | None = None
    action: str | None = None
    support_ticket: str | None = None

    def params(self) -> dict[str, object]:
        def blank_is_none(value: str | None) -> str | None:
            return value.strip() if value and value.strip() else None

        return {"since": self.since, "until": self.until,
                "engineer_email": blank_is_none(self.engineer_email),
                "org_slug": blank_is_none(self.org_slug), "action": blank_is_none(self.action),
                "ticket": blank_is_none(self.support_ticket)}


def activity(connection: Connection, chosen: ActivityFilter,
             limit: int = ACTIVITY_LIMIT) -> pd.DataFrame:
    """Support engineers' audited actions, newest first (a support engineer's scope only)."""
    rows = connection.execute(
        _STATEMENTS.sql("support_activity"),
        {**chosen.params(), "row_limit": limit},
    ).mappings().all()
    return pd.DataFrame(rows, columns=ACTIVITY_COLUMNS)
