"""Billing: rating usage with the price book, monthly invoices, allocation, credit notes.

- rating.py: the month's usage, priced as the ``rated_usage`` view prices it, into lines
  (rounding rule); its passes at day grain also rebuild the rollups;
- sql/allocate_largest_remainder.sql: each line's cents split over its machines and volumes
  (largest remainder), run by rating.py after pricing;
- invoices.py: drafting and finalizing invoices, idempotently, one transaction per run;
- credit_notes.py: corrections to finalized invoices, safe under concurrency;
- verify.py: re-rating and comparing with stored invoices, per line and per machine;
- invoice_status.py: the invoice states and the questions asked of them.

Their SQL lives in sql/, one named statement per file (fleetspend/sqlfiles.py): ``statements``.
"""

from pathlib import Path

from fleetspend.sqlfiles import SqlFolder

statements = SqlFolder(Path(__file__).resolve().parent / "sql")
