-- The drafts of period_start for org_ids, to be hashed and sealed: creates hashed_invoices
-- (org_id, invoice_id, invoice_number, subtotal_cents).
create temp table hashed_invoices on commit drop as
select org_id, invoice_id, invoice_number, subtotal_cents
from invoices
where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
