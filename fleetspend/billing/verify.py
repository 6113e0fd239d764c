"""Verification: re-rate raw usage and compare it with the stored invoices, to the cent.

``verify_month`` stages the month exactly as drafting does (rating.py) and compares, inside
one read-only snapshot, every stored non-void invoice of the month with it:

- per line, matched by its key (product, price list, region, preset and memory, egress
  group): consumed and pricing quantity, unit price, precise amount and cents, and lines
  missing from the invoice or not backed by usage;
- per allocation, matched by line key and machine or volume: quantities, precise amount and
  cents, and allocations missing or unexpected;
- per invoice: subtotal = sum of lines, credits = sum of credit notes, total = subtotal -
  credits, the content hash of a sealed invoice, and organizations with usage but no invoice;
- per group of lines and app: the amounts written when drafting (``invoice_group_amounts``)
  equal the allocations summed again.

An empty list means every invoice is reproduced exactly. ``verify_in`` does the same inside a
caller's transaction; ``compare_lines`` and ``compare_resources`` then list one invoice's lines
and machines (or volumes) billed against re-rated, for support's dispute workbench
(fleetspend/reads/dispute.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, text

from fleetspend.billing import statements
from fleetspend.billing.adjustments import LINE_KEY
from fleetspend.billing.invoices import hash_contents, resolve_org_ids
from fleetspend.billing.rating import stage_month


@dataclass(frozen=True)
class Difference:
    """One disagreement between a stored invoice and the re-rated usage."""

    org_id: int
    invoice_number: str | None
    level: str  # 'invoice', 'line', 'allocation' or 'group'
    line: str | None  # the line's description, when the difference is inside a line
    resource_id: str | None
    field: str
    stored: str | None
    expected: str | None
    # the later invoices whose adjustment lines make up this difference exactly, if any
    carried_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether nothing carries this difference yet (verify fails on these only)."""
        return self.carried_by is None

    def describe(self) -> str:
        where = " / ".join(
            part for part in (self.invoice_number or f"org {self.org_id} (no invoice)",
                              self.line, self.resource_id) if part
        )
        carried = f" (carried by {self.carried_by})" if self.carried_by else ""
        return f"{where}: {self.field} stored {self.stored}, re-rated {self.expected}{carried}"


# Stored and re-rated lines are paired on the line key (product, price list, region, preset
# and memory, egress group, as one text: adjustments.LINE_KEY), a plain hashable equality.
# Allocations are then paired within their line pair by resource id. Adjustment lines are
# not the month's own: they count as carrying a difference of the month they adjust.
LINE_PAIRS_SQL = f"""
create temp table verified_line_pairs on commit drop as
with stored as (
    select invoice_lines.*, verified_invoices.invoice_number,
           {LINE_KEY.format(t="invoice_lines")} as line_key
    from invoice_lines
    join verified_invoices using (org_id, invoice_id)
    where invoice_lines.adjusts_period_date is null
),

expected as (
    select rated_lines.*, verified_invoices.invoice_id, verified_invoices.invoice_number,
           {LINE_KEY.format(t="rated_lines")} as line_key
    from rated_lines
    join verified_invoices using (org_id)
),

-- the month's adjustment lines on later invoices (late usage carried)
carried as (
    select invoice_lines.org_id, {LINE_KEY.format(t="invoice_lines")} as line_key,
           sum(invoice_lines.consumed_quantity) as consumed_quantity,
           sum(invoice_lines.amount_cents) as amount_cents,
           string_agg(distinct invoices.invoice_number, ', ') as carried_by
    from invoice_lines
    join invoices using (org_id, invoice_id)
    where invoice_lines.adjusts_period_date = :period_start
      and invoice_lines.org_id = any(:org_ids)
      and invoices.status <> 'void'
    group by 1, 2
),

pairs as (
    select coalesce(stored.org_id, expected.org_id) as org_id,
           coalesce(stored.line_key, expected.line_key) as line_key,
           coalesce(stored.invoice_id, expected.invoice_id) as invoice_id,
           coalesce(stored.invoice_number, expected.invoice_number) as invoice_number,
           coalesce(stored.description, expected.description) as line,
           stored.line_no as stored_line_no,
           expected.line_no as expected_line_no,
           stored.consumed_quantity as stored_consumed, expected.consumed_quantity as consumed,
           stored.quantity as stored_quantity, expected.quantity as quantity,
           stored.unit_price as stored_unit_price, expected.unit_price as unit_price,
           stored.amount_precise as stored_precise, expected.amount_precise as precise,
           stored.amount_cents as stored_cents, expected.amount_cents as cents
    from stored
    full join expected
      on expected.org_id = stored.org_id
     and expected.line_key = stored.line_key
)

select row_number() over () as pair_no,
       pairs.*,
       coalesce(carried.amount_cents, 0) as carried_cents,
       -- carried: the adjustments make up the whole difference, in quantity and in cents
       case when coalesce(pairs.stored_consumed, 0) + carried.consumed_quantity
                 = coalesce(pairs.consumed, 0)
             and coalesce(pairs.stored_cents, 0) + carried.amount_cents
                 = coalesce(pairs.cents, 0)
            then carried.carried_by end as carried_by
from pairs
left join carried
  on carried.org_id = pairs.org_id and carried.line_key = pairs.line_key
"""  # noqa: S608 - composed from module constants only

ALLOCATION_DIFFERENCES_SQL = """
with stored as (
    select pairs.pair_no, invoice_allocations.*
    from verified_line_pairs as pairs
    join invoice_allocations
      on invoice_allocations.org_id = pairs.org_id
     and invoice_allocations.invoice_id = pairs.invoice_id
     and invoice_allocations.line_no = pairs.stored_line_no
),

expected as (
    select pairs.pair_no, rated_allocations.*
    from verified_line_pairs as pairs
    join rated_allocations
      on rated_allocations.org_id = pairs.org_id
     and rated_allocations.line_no = pairs.expected_line_no
),

carried as (
    select invoice_lines.org_id, {line_key} as line_key, invoice_allocations.resource_id,
           sum(invoice_allocations.consumed_quantity) as consumed_quantity,
           sum(invoice_allocations.amount_cents) as amount_cents,
           string_agg(distinct invoices.invoice_number, ', ') as carried_by
    from invoice_lines
    join invoices using (org_id, invoice_id)
    join invoice_allocations using (org_id, invoice_id, line_no)
    where invoice_lines.adjusts_period_date = :period_start
      and invoice_lines.org_id = any(:org_ids)
      and invoices.status <> 'void'
    group by 1, 2, 3
),

paired as (
    select coalesce(stored.pair_no, expected.pair_no) as pair_no,
           coalesce(stored.resource_id, expected.resource_id) as resource_id,
           stored.resource_id is not null as is_stored,
           expected.resource_id is not null as is_expected,
           stored.consumed_quantity as stored_consumed, expected.consumed_quantity as consumed,
           stored.amount_precise as stored_precise, expected.amount_precise as precise,
           stored.amount_cents as stored_cents, expected.amount_cents as cents
    from stored
    full join expected
      on expected.pair_no = stored.pair_no
     and expected.resource_id = stored.resource_id
)

select pairs.org_id, pairs.invoice_number, pairs.line, paired.resource_id, compared.field,
       compared.stored, compared.expected,
       case when coalesce(paired.stored_consumed, 0) + carried.consumed_quantity
                 = coalesce(paired.consumed, 0)
             and coalesce(paired.stored_cents, 0) + carried.amount_cents
                 = coalesce(paired.cents, 0)
            then carried.carried_by end as carried_by
from paired
join verified_line_pairs as pairs on pairs.pair_no = paired.pair_no
left join carried
  on carried.org_id = pairs.org_id
 and carried.line_key = pairs.line_key
 and carried.resource_id = paired.resource_id
cross join lateral (values
    ('allocation', case when paired.is_stored then 'present' else 'missing' end,
                   case when paired.is_expected then 'present' else 'not backed by usage' end,
     paired.is_stored <> paired.is_expected),
    ('consumed_quantity', paired.stored_consumed::text, paired.consumed::text,
     paired.stored_consumed <> paired.consumed),
    ('amount_precise', paired.stored_precise::text, paired.precise::text,
     paired.stored_precise <> paired.precise),
    ('amount_cents', paired.stored_cents::text, paired.cents::text,
     paired.stored_cents <> paired.cents)
) as compared (field, stored, expected, differs)
where compared.differs
order by pairs.org_id, pairs.line, paired.resource_id, compared.field
""".replace("{line_key}", LINE_KEY.format(t="invoice_lines"))

def verify_month(engine: Engine, period_start: date,
                 org_slug: str | None = None) -> list[Difference]:
    """Every difference between the month's stored invoices and the re-rated usage."""
    with engine.connect() as connection:
        # one snapshot for the re-rating and the stored invoices; nothing is written (the
        # staging tables are temporary and the transaction is rolled back)
        connection.exec_driver_sql("set transaction isolation level repeatable read")
        differences = verify_in(connection, period_start,
                                resolve_org_ids(connection, org_slug))
        connection.rollback()
    return differences


def verify_in(connection: Connection, period_start: date, org_ids: list[int]) -> list[Difference]:
    """:func:`verify_month` for ``org_ids`` inside the caller's transaction.

    The transaction must be able to create temporary tables (so on the primary, not a hot
    standby) and should be REPEATABLE READ. The staged and paired tables stay until it ends,
    for :func:`compare_lines` and :func:`compare_resources`.
    """
    stage_month(connection, period_start, org_ids)
    params = {"period_start": period_start, "org_ids": org_ids}
    connection.execute(statements.sql("verified_invoices"), params)
    connection.exec_driver_sql("analyze pg_temp.verified_invoices")
    connection.execute(text(LINE_PAIRS_SQL), params)
    connection.exec_driver_sql("analyze pg_temp.verified_line_pairs")
    # the content hash of each verified invoice, recomputed from its stored lines
    connection.exec_driver_sql("drop table if exists pg_temp.hashed_invoices")
    connection.execute(statements.sql("verified_hashed_invoices"))
    hash_contents(connection)
    differences = [
        Difference(org_id=row.org_id, invoice_number=row.invoice_number, level="invoice",
                   line=None, resource_id=None, field=row.field, stored=row.stored,
                   expected=row.expected, carried_by=row.carried_by)
        for row in connection.execute(statements.sql("invoice_differences"),
                                      {"period_start": period_start})
    ]
    differences += [
        Difference(org_id=row.org_id, invoice_number=row.invoice_number, level="line",
                   line=row.line, resource_id=None, field=row.field, stored=row.stored,
                   expected=row.expected, carried_by=row.carried_by)
        for row in connection.execute(statements.sql("line_differences"))
    ]
    differences += [
        Difference(org_id=row.org_id, invoice_number=row.invoice_number,
                   level="allocation", line=row.line, resource_id=row.resource_id,
                   field=row.field, stored=row.stored, expected=row.expected,
                   carried_by=row.carried_by)
        for row in connection.execute(text(ALLOCATION_DIFFERENCES_SQL), params)
    ]
    differences += [
        Difference(org_id=row.org_id, invoice_number=row.invoice_number, level="group",
                   line=row.line, resource_id=row.resource_id, field=row.field,
                   stored=row.stored, expected=row.expected)
        for row in connection.execute(statements.sql("group_amount_differences"))
    ]
    return differences


def compare_lines(connection: Connection, invoice_number: str) -> list[dict[str, object]]:
    """Every line of ``invoice_number``, billed against re-rated (after :func:`verify_in`)."""
    rows = connection.execute(statements.sql("line_comparison"),
                              {"invoice_number": invoice_number})
    return [dict(row) for row in rows.mappings()]


def compare_resources(connection: Connection, invoice_number: str) -> list[dict[str, object]]:
    """Every machine and volume of ``invoice_number``, billed against re-rated, largest
    difference first (after :func:`verify_in`)."""
    rows = connection.execute(statements.sql("resource_comparison"),
                              {"invoice_number": invoice_number})
    return [dict(row) for row in rows.mappings()]
