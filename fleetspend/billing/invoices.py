"""Drafting and finalizing monthly invoices: one per organization per calendar month (UTC).

``draft_month`` rates the month (rating.py) and replaces the lines and allocations of every
draft invoice of that month with the result, creating the invoice when needed; finalized,
paid and void invoices are left alone, so reruns are idempotent. Every draft is an estimate;
the current month's draft is the "upcoming invoice". ``finalize_month`` redrafts and then seals
the drafts of a month that has ended: status finalized, finalized_at and a content hash of the
lines and allocations. From then on the database refuses any change to the invoice, its lines
or its allocations (migration 0002); corrections are credit notes (credit_notes.py).

Invoice numbers read ``FS-YYYYMM-<org id, 6 digits>``, e.g. FS-202610-000042: unique because
there is one invoice per organization and month, and stable across redrafts.

Each call is one transaction on the primary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text

from fleetspend import figures
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


ENSURE_INVOICES_SQL = """
insert into invoices (org_id, invoice_number, period_start_date)
select organizations.org_id,
       format('FS-%s-%s', to_char(cast(:period_start as date), 'YYYYMM'),
              lpad(organizations.org_id::text, 6, '0')),
       :period_start
from organizations
where organizations.org_id = any(:org_ids)
  and (organizations.org_id = any(:always_org_ids)
       or exists (select from rated_lines where rated_lines.org_id = organizations.org_id))
on conflict (org_id, period_start_date) do nothing
"""

LOCK_INVOICES_SQL = """
select org_id, invoice_id, invoice_number, status
from invoices
where period_start_date = :period_start and org_id = any(:org_ids)
order by org_id
for update
"""

# allocations first, in one statement, rather than row by row through the cascade
CLEAR_DRAFT_ALLOCATIONS_SQL = """
delete from invoice_allocations
where (org_id, invoice_id) in (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
)
"""

CLEAR_DRAFT_LINES_SQL = """
delete from invoice_lines
where (org_id, invoice_id) in (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
)
"""

INSERT_LINES_SQL = """
insert into invoice_lines (
    org_id, invoice_id, line_no, product, price_list_id, region_code, preset_code, memory_mb,
    egress_group, description, consumed_quantity, consumed_unit, quantity, pricing_unit,
    unit_price, amount_precise, amount_cents, adjusts_period_date
)
select invoices.org_id, invoices.invoice_id, rated_lines.line_no, rated_lines.product,
       rated_lines.price_list_id, rated_lines.region_code, rated_lines.preset_code,
       rated_lines.memory_mb, rated_lines.egress_group, rated_lines.description,
       rated_lines.consumed_quantity, rated_lines.consumed_unit, rated_lines.quantity,
       rated_lines.pricing_unit, rated_lines.unit_price, rated_lines.amount_precise,
       rated_lines.amount_cents, rated_lines.adjusts_period_date
from rated_lines
join invoices
  on invoices.org_id = rated_lines.org_id
 and invoices.period_start_date = :period_start
 and invoices.status = 'draft'
"""

INSERT_ALLOCATIONS_SQL = """
insert into invoice_allocations (
    org_id, invoice_id, line_no, resource_kind, resource_id, app_id, consumed_quantity,
    quantity, amount_precise, amount_cents
)
select invoices.org_id, invoices.invoice_id, rated_allocations.line_no,
       rated_allocations.resource_kind, rated_allocations.resource_id, rated_allocations.app_id,
       rated_allocations.consumed_quantity, rated_allocations.quantity,
       rated_allocations.amount_precise, rated_allocations.amount_cents
from rated_allocations
join invoices
  on invoices.org_id = rated_allocations.org_id
 and invoices.period_start_date = :period_start
 and invoices.status = 'draft'
"""

UPDATE_DRAFT_TOTALS_SQL = """
update invoices
set subtotal_cents = coalesce(line_totals.subtotal_cents, 0),
    credits_cents = 0,
    total_cents = coalesce(line_totals.subtotal_cents, 0)
from invoices as drafts
left join (
    select org_id, sum(amount_cents) as subtotal_cents
    from rated_lines
    group by org_id
) as line_totals on line_totals.org_id = drafts.org_id
where invoices.org_id = drafts.org_id
  and invoices.invoice_id = drafts.invoice_id
  and drafts.period_start_date = :period_start
  and drafts.org_id = any(:org_ids)
  and drafts.status = 'draft'
"""

# The canonical text of an invoice's content, hashed at finalization and rechecked by verify:
# its number and subtotal, then every line with its key, quantities and amounts, each followed
# by its allocations in resource order. One correlated subquery per invoice reads its lines
# and allocations by primary key prefix, whatever the statistics of freshly written rows say.
CONTENT_HASH_SQL = """
select hashed_invoices.org_id, hashed_invoices.invoice_id,
       encode(sha256(convert_to(concat_ws(E'\\n',
           hashed_invoices.invoice_number, hashed_invoices.subtotal_cents,
           (select string_agg(parts.body, E'\\n'
                              order by parts.line_no, parts.is_allocation, parts.resource_id)
            from (
                select invoice_lines.line_no, false as is_allocation, '' as resource_id,
                       concat_ws('|', invoice_lines.line_no, invoice_lines.product,
                                 invoice_lines.price_list_id, invoice_lines.region_code,
                                 invoice_lines.preset_code, invoice_lines.memory_mb,
                                 invoice_lines.egress_group, invoice_lines.consumed_quantity,
                                 invoice_lines.quantity, invoice_lines.unit_price,
                                 invoice_lines.amount_precise, invoice_lines.amount_cents,
                                 invoice_lines.adjusts_period_date)
                           as body
                from invoice_lines
                where invoice_lines.org_id = hashed_invoices.org_id
                  and invoice_lines.invoice_id = hashed_invoices.invoice_id
                union all
                select invoice_allocations.line_no, true, invoice_allocations.resource_id,
                       concat_ws(':', invoice_allocations.resource_kind,
                                 invoice_allocations.resource_id, invoice_allocations.app_id,
                                 invoice_allocations.consumed_quantity,
                                 invoice_allocations.quantity,
                                 invoice_allocations.amount_precise,
                                 invoice_allocations.amount_cents)
                from invoice_allocations
                where invoice_allocations.org_id = hashed_invoices.org_id
                  and invoice_allocations.invoice_id = hashed_invoices.invoice_id
            ) as parts)
       ), 'UTF8')), 'hex') as content_hash
from hashed_invoices
"""

# composed from this module's constants only, never from input
SEAL_SQL = (
    "with hashed_invoices as ("  # noqa: S608
    "    select org_id, invoice_id, invoice_number, subtotal_cents from invoices"
    "    where period_start_date = :period_start and org_id = any(:org_ids)"
    "      and status = 'draft'"
    "), hashes as (" + CONTENT_HASH_SQL + ") "
    "update invoices set status = 'finalized', finalized_at = :finalized_at, "
    "content_hash = hashes.content_hash "
    "from hashes "
    "where invoices.org_id = hashes.org_id and invoices.invoice_id = hashes.invoice_id "
    "returning invoices.org_id, invoices.invoice_id, invoices.invoice_number"
)


def resolve_org_ids(connection: Connection, org_slug: str | None) -> list[int]:
    """The org ids a run covers: the one named by ``org_slug``, or every organization."""
    if org_slug is None:
        return list(connection.execute(text("select org_id from organizations")).scalars())
    org_id = connection.execute(
        text("select org_id from organizations where slug = :slug"), {"slug": org_slug}
    ).scalar()
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
    params = {"period_start": period_start, "org_ids": org_ids}
    connection.execute(text(ENSURE_INVOICES_SQL), {**params, "always_org_ids": always_org_ids})
    invoices = connection.execute(text(LOCK_INVOICES_SQL), params).all()
    connection.execute(text(CLEAR_DRAFT_ALLOCATIONS_SQL), params)
    connection.execute(text(CLEAR_DRAFT_LINES_SQL), params)
    connection.execute(text(INSERT_LINES_SQL), params)
    connection.execute(text(INSERT_ALLOCATIONS_SQL), params)
    connection.execute(text(UPDATE_DRAFT_TOTALS_SQL), params)
    # fresh statistics, so the drill-down's first reads of these rows plan well
    connection.execute(text("analyze invoice_lines, invoice_allocations"))
    # the pages show the drafts' cents for the month (fleetspend/figures.py)
    figures.apply(connection, period_start,
                  [row.org_id for row in invoices if row.status == "draft"])
    return BillingRun(
        period_start=period_start,
        drafted=[row.invoice_number for row in invoices if row.status == "draft"],
        finalized=[],
        already_sealed=[row.invoice_number for row in invoices if row.status != "draft"],
    )


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
        sealed = connection.execute(text(SEAL_SQL), {
            "period_start": period_start, "org_ids": org_ids, "finalized_at": finalized_at,
        }).all()
        clear_carried(connection, [row.org_id for row in sealed])
        sealed = [row.invoice_number for row in sealed]
    return BillingRun(period_start=period_start, drafted=[], finalized=sorted(sealed),
                      already_sealed=drafted.already_sealed)
