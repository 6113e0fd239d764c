-- Every stored non-void invoice of period_start for org_ids, to verify: creates
-- verified_invoices.
create temp table verified_invoices on commit drop as
select org_id, invoice_id, invoice_number, status, subtotal_cents, credits_cents,
       total_cents, content_hash
from invoices
where period_start_date = :period_start and org_id = any(:org_ids) and status <> 'void'
