-- One organization's invoice for one calendar month, if any (draft, finalized, paid or void).
-- Params: org_id; month_date (the month's first day). Returns at most one row:
-- invoice_id, invoice_number, status, currency, subtotal_cents, credits_cents, total_cents.
select
    invoice_id,
    invoice_number,
    status,
    currency,
    subtotal_cents,
    credits_cents,
    total_cents
from invoices
where org_id = :org_id
  and period_start_date = :month_date
