"""Drafting and finalizing monthly invoices: one per organization per calendar month (UTC).

``draft_month`` rates the month (rating.py) and replaces the lines and allocations of every
draft invoice of that month with the result, with what each app was allocated per group of
lines (``invoice_group_amounts``, migration 0020: the drill-down reads these), creating the
invoice when needed; finalized, paid and void invoices are left alone, so reruns are
idempotent. Every draft is an estimate; the current month's draft is the "upcoming invoice".
``finalize_month`` redrafts and then seals the drafts of a month that has ended: status
finalized, finalized_at and a content hash of the lines and allocations. From then on the
database refuses any change to the invoice, its lines, allocations or group amounts
(migrations 0002, 0020); corrections are credit notes (credit_notes.py).

Invoice numbers read ``FS-YYYYMM-<org id, 6 digits>``, e.g. FS-202610-000042: unique because
there is one invoice per organization and month, and stable across redrafts.

Each call is one transaction on the primary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from fleetspend import bulk, figures, models
from fleetspend.billing import invoice_status, statements, temporary
from fleetspend.billing.adjustments import clear_carried, stage_with_adjustments
from fleetspend.billing.rating import BillingError, month_bounds
from fleetspend.usage_lock import lock_usage


@dataclass(frozen=True)
class BillingRun:
    """What a draft or finalize run did, per invoice number."""

    period_start: date
    drafted: list[str]
    finalized: list[str]
    already_sealed: list[str]

    def describe(self) -> str:
        month = f"{self.period_start:%Y-%m}"
        parts = [f"{len(self.drafted)} drafted"]
        if self.finalized:
            parts.append(f"{len(self.finalized)} finalized")
        if self.already_sealed:
            parts.append(f"{len(self.already_sealed)} already finalized (left unchanged)")
        return f"invoices for {month}: " + ", ".join(parts)


def resolve_org_ids(connection: Connection, org_slug: str | None) -> list[int]:
    """The org ids a run covers: the one named by ``org_slug``, or every organization."""
    if org_slug is None:
        return list(connection.execute(statements.sql("all_org_ids")).scalars())
    org_id = connection.execute(statements.sql("org_id_of_slug"), {"slug": org_slug}).scalar()
    if org_id is None:
        raise BillingError(f"no organization with slug {org_slug!r}")
    return [org_id]


def draft_in(connection: Connection, period_start: date, org_ids: list[int],
             always_org_ids: list[int]) -> BillingRun:
    """Draft the month for ``org_ids`` inside the caller's transaction, with the adjustment
    lines its drafts carry for earlier months whose usage changed after they were sealed.

    Imports wait until the caller's transaction ends, so the run reads one state of the
    usage. Organizations without usage get an invoice only when they are in
    ``always_org_ids``.
    """
    lock_usage(connection)
    stage_with_adjustments(connection, period_start, org_ids)
    params = {"period_start": period_start, "org_ids": org_ids,
              "groupings": list(models.INVOICE_GROUPINGS)}
    connection.execute(statements.sql("ensure_invoices"),
                       {**params, "always_org_ids": always_org_ids})
    invoices = connection.execute(statements.sql("lock_month_invoices"), params).all()
    for statement in ("clear_draft_group_amounts", "clear_draft_allocations",
                      "clear_draft_lines", "insert_draft_lines", "insert_draft_allocations",
                      "insert_draft_group_amounts", "update_draft_totals"):
        connection.execute(statements.sql(statement), params)
    # fresh statistics, so the drill-down's first reads of these rows plan well
    bulk.analyze_tables(connection, ("invoice_lines", "invoice_allocations",
                                     "invoice_group_amounts", "invoice_group_resources"))
    drafts = [row for row in invoices if row.status == invoice_status.DRAFT]
    # the pages show the drafts' cents for the month (fleetspend/figures.py)
    figures.apply(connection, period_start, [row.org_id for row in drafts])
    return BillingRun(
        period_start=period_start,
        drafted=[row.invoice_number for row in drafts],
        finalized=[],
        already_sealed=[row.invoice_number for row in invoices
                        if row.status != invoice_status.DRAFT],
    )


def hash_contents(connection: Connection) -> None:
    """Hash the content of each invoice in the temporary table ``hashed_invoices`` into
    ``content_hashes`` (sql/content_hashes.sql): finalizing seals drafts with these hashes,
    verification recomputes them for stored invoices."""
    temporary.drop(connection, "content_hashes")
    connection.execute(statements.sql("content_hashes"))


def draft_month(engine: Engine, period_start: date, org_slug: str | None = None) -> BillingRun:
    """Build or rebuild the draft invoices of the month, in one transaction."""
    month_bounds(period_start)
    with engine.begin() as connection:
        org_ids = resolve_org_ids(connection, org_slug)
        return draft_in(connection, period_start, org_ids,
                        always_org_ids=org_ids if org_slug else [])


def finalize_month(engine: Engine, period_start: date, org_slug: str | None = None,
                   now: datetime | None = None) -> BillingRun:
    """Redraft and seal the month's draft invoices, in one transaction.

    The month must have ended (``now`` defaults to the current time). Invoices already
    finalized, paid or void are left unchanged, so reruns are idempotent.
    """
    _, period_end_at = month_bounds(period_start)
    finalized_at = now or datetime.now(UTC)
    if finalized_at < period_end_at:
        raise BillingError(
            f"{period_start:%Y-%m} has not ended yet (it ends {period_end_at.isoformat()}); "
            "its draft is the upcoming invoice and cannot be finalized"
        )
    with engine.begin() as connection:
        org_ids = resolve_org_ids(connection, org_slug)
        drafted = draft_in(connection, period_start, org_ids,
                           always_org_ids=org_ids if org_slug else [])
        temporary.drop(connection, "hashed_invoices")
        connection.execute(statements.sql("drafts_to_seal"),
                           {"period_start": period_start, "org_ids": org_ids})
        hash_contents(connection)
        sealed = connection.execute(statements.sql("seal_drafts"),
                                    {"finalized_at": finalized_at}).all()
        clear_carried(connection, [row.org_id for row in sealed])
    return BillingRun(period_start=period_start, drafted=[],
                      finalized=sorted(row.invoice_number for row in sealed),
                      already_sealed=drafted.already_sealed)
