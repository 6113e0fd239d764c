-- Deletes the allocations of the drafts of period_start for org_ids: in one statement,
-- before their lines, rather than row by row through the cascade.
delete from invoice_allocations
where (org_id, invoice_id) in (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
)
