-- The invoices of period_start for org_ids, locked: org_id, invoice_id, invoice_number,
-- status.
select org_id, invoice_id, invoice_number, status
from invoices
where period_start_date = :period_start and org_id = any(:org_ids)
order by org_id
for update
