-- Deletes the lines of the drafts of period_start for org_ids.
delete from invoice_lines
where (org_id, invoice_id) in (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
)
