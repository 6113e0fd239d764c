-- What the drafts of period_start for org_ids allocated per group of lines of every grouping,
-- to each app (invoice_group_sums) and to each machine or volume
-- (invoice_group_resource_sums; migration 0020), written once their allocations are: the
-- drill-down reads these rows instead of summing the allocations. In key order, so that one
-- group's rows lie together (a few pages to read, not one a row).
with drafts as (
    select org_id, invoice_id from invoices
    where period_start_date = :period_start and org_id = any(:org_ids) and status = 'draft'
),

app_amounts as (
    insert into invoice_group_amounts
    select drafts.org_id, drafts.invoice_id, sums.*
    from drafts
    cross join lateral invoice_group_sums(drafts.org_id, drafts.invoice_id) as sums
    order by 1, 2, 3, 4, 5
)

insert into invoice_group_resources
select drafts.org_id, drafts.invoice_id, sums.*
from drafts
cross join lateral invoice_group_resource_sums(drafts.org_id, drafts.invoice_id) as sums
order by 1, 2, 3, 4, 5
