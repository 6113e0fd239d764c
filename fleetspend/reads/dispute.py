"""The dispute workbench: one invoice as billed against its raw usage re-rated, to the cent.

:func:`rerate` re-rates the invoice's month for its organization with the billing engine's
verification (:mod:`fleetspend.billing.verify`) and returns

- every field that differs (invoice, line or allocation level; none when reproduced exactly);
- every line billed against re-rated, and every machine or volume likewise (summed over its
  lines), largest difference first.

Verification stages the month in temporary tables, which a hot standby cannot create: it runs
on the primary, as the app's role under the support engineer's grant (row-level security
keeps it to that organization), in one REPEATABLE READ transaction that is rolled back.

The workbench also shows the price book versions in force during the period and the
timelines of the invoice's machines a few days either side of it (:func:`timeline_window`).
Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine

from fleetspend import db
from fleetspend.billing.verify import compare_lines, compare_resources, verify_in
from fleetspend.reads import invoice_drill as drill
from queries import sql

TIMELINE_MARGIN = timedelta(days=3)
RERATE_TIMEOUT_MS = 120_000

DIFFERENCE_COLUMNS = ["level", "line", "resource_id", "field", "stored", "expected",
                      "carried_by"]
LINE_COLUMNS = ["line_no", "description", "billed_quantity", "rerated_quantity",
                "billed_cents", "rerated_cents", "difference_cents"]
RESOURCE_COLUMNS = ["resource_kind", "resource_id", "app_name", "billed_cents",
                    "rerated_cents", "difference_cents"]
PRICE_LIST_COLUMNS = ["price_list_id", "name", "effective_from", "effective_until",
                      "lines_priced", "amount_cents"]


@dataclass(frozen=True)
class Rerating:
    """An invoice compared with its usage re-rated now."""

    invoice_number: str
    rerated_at: datetime
    differences: pd.DataFrame
    lines: pd.DataFrame
    resources: pd.DataFrame

    @property
    def is_reproduced(self) -> bool:
        """Whether re-rating reproduces the invoice exactly, field for field."""
        return self.differences.empty

    @property
    def carried_by(self) -> list[str]:
        """The later invoices carrying every difference as adjustment lines (late usage), or
        nothing when any difference is open."""
        carried = self.differences["carried_by"]
        if carried.empty or carried.isna().any():
            return []
        return sorted({number for numbers in carried for number in numbers.split(", ")})


@contextlib.contextmanager
def primary_transaction(engine: Engine, scope: db.ScopeLike) -> Iterator[Connection]:
    """One REPEATABLE READ transaction on ``engine`` (the primary as the app's role) under
    ``scope``, with a statement timeout; the caller commits or it is rolled back."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        db.set_local(connection, {"statement_timeout": str(RERATE_TIMEOUT_MS),
                                  **scope.settings()})
        yield connection


def rerate_in(connection: Connection, org_id: int, invoice: drill.Invoice) -> Rerating:
    """:func:`rerate` inside the caller's transaction (see :func:`primary_transaction`)."""
    differences = [
        difference for difference in verify_in(connection, invoice.period_start_date, [org_id])
        if difference.invoice_number == invoice.invoice_number
    ]
    return Rerating(
        invoice_number=invoice.invoice_number,
        rerated_at=datetime.now(UTC),
        differences=pd.DataFrame(
            [{column: getattr(difference, column) for column in DIFFERENCE_COLUMNS}
             for difference in differences], columns=DIFFERENCE_COLUMNS),
        lines=pd.DataFrame(compare_lines(connection, invoice.invoice_number),
                           columns=LINE_COLUMNS),
        resources=pd.DataFrame(compare_resources(connection, invoice.invoice_number),
                               columns=RESOURCE_COLUMNS),
    )


def rerate(engine: Engine, scope: db.ScopeLike, org_id: int,
           invoice_number: str) -> Rerating | None:
    """Re-rate the invoice ``invoice_number`` of ``org_id``; None when there is no such
    invoice. Void invoices are not re-rated (their comparison is empty)."""
    with primary_transaction(engine, scope) as connection:
        invoice = drill.invoice(connection, org_id, invoice_number)
        rerating = None if invoice is None else rerate_in(connection, org_id, invoice)
        connection.rollback()
    return rerating


def price_lists(connection: Connection, org_id: int, invoice_id: int) -> pd.DataFrame:
    """The price book versions in force during the invoice's month or pricing its lines."""
    rows = connection.execute(sql("invoice_price_lists"),
                              {"org_id": org_id, "invoice_id": invoice_id}).mappings().all()
    return pd.DataFrame(rows, columns=PRICE_LIST_COLUMNS)


def timeline_window(invoice: drill.Invoice) -> tuple[datetime, datetime]:
    """The invoice's month widened by :data:`TIMELINE_MARGIN` on each side (UTC)."""
    start, end = invoice.period
    return start - TIMELINE_MARGIN, end + TIMELINE_MARGIN
