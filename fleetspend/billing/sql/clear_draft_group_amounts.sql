-- Deletes what the drafts of period_start for org_ids allocated per group of lines, to each
-- app and to each resource (migration 0020), before their allocations are rewritten.
with drafts as (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
),

cleared_apps as (
    delete from invoice_group_amounts
    where (org_id, invoice_id) in (select org_id, invoice_id from drafts)
)

delete from invoice_group_resources
where (org_id, invoice_id) in (select org_id, invoice_id from drafts)
