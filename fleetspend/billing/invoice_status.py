"""Invoice states, named once: what each status means and the questions asked of it.

An invoice moves draft -> finalized -> paid, or finalized -> void (migration 0002's guard); the
check constraint ``ck_invoices_status_known`` admits exactly :data:`STATUSES`, and
tests/db/test_invoice_status.py holds this module to the database. A *sealed* invoice
(finalized or paid) is the month's figure: its cents are what the pages show, and it is the
only kind that takes credit notes (the ``credit_note_guard`` trigger and the support console's
``issue_credit_note`` function ask the same). A void invoice counts for nothing; a draft is an
estimate. SQL asks ``status = any(:sealed_statuses)`` with :func:`sealed_params` bound, so no
query spells the set again.
"""

from __future__ import annotations

from typing import Final

DRAFT: Final = "draft"
FINALIZED: Final = "finalized"
PAID: Final = "paid"
VOID: Final = "void"

STATUSES: Final = (DRAFT, FINALIZED, PAID, VOID)
SEALED: Final = (FINALIZED, PAID)


def is_sealed(status: str | None) -> bool:
    """Whether an invoice in ``status`` is final: its cents are the month's, not an estimate."""
    return status in SEALED


def is_creditable(status: str) -> bool:
    """Whether an invoice in ``status`` takes credit notes (the sealed ones)."""
    return is_sealed(status)


def left_to_credit(subtotal_cents: int, credits_cents: int) -> int:
    """Cents that credit notes may still take off: what was billed less what was credited.

    Never below zero (a subtotal made negative by adjustments leaves nothing to credit); the
    check constraint ``credits_cents <= greatest(subtotal_cents, 0)`` is the backstop.
    """
    return max(subtotal_cents - credits_cents, 0)


def sealed_params() -> dict[str, list[str]]:
    """The bind parameter for ``status = any(:sealed_statuses)``."""
    return {"sealed_statuses": list(SEALED)}
