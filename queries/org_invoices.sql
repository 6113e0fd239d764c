-- One organization's invoices, newest period first.
-- Params: org_id. Returns: invoice_id, invoice_number, period_start_date, status, currency,
-- subtotal_cents, credits_cents, total_cents, finalized_at (UTC).
select
    invoice_id,
    invoice_number,
    period_start_date,
    status,
    currency,
    subtotal_cents,
    credits_cents,
    total_cents,
    finalized_at
from invoices
where org_id = :org_id
order by period_start_date desc
