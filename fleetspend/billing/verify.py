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

from sqlalchemy import Connection, Engine

from fleetspend.billing import statements, temporary
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


def verify_month(engine: Engine, period_start: date,
                 org_slug: str | None = None) -> list[Difference]:
    """Every difference between the month's stored invoices and the re-rated usage."""
    # one snapshot for the re-rating and the stored invoices; nothing is written (the
    # staging tables are temporary and the transaction is rolled back)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
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
    temporary.analyze(connection, "verified_invoices")
    connection.execute(statements.sql("verified_line_pairs"), params)
    temporary.analyze(connection, "verified_line_pairs")
    # the content hash of each verified invoice, recomputed from its stored lines
    temporary.drop(connection, "hashed_invoices")
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
        for row in connection.execute(statements.sql("allocation_differences"), params)
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
