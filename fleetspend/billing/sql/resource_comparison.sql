-- Billed against re-rated per machine (or volume) of invoice invoice_number, summed over
-- its lines, largest difference first, after verification: resource_kind, resource_id,
-- app_name, billed_cents, rerated_cents, difference_cents.
with invoice as (
    select org_id, invoice_id from verified_invoices where invoice_number = :invoice_number
),

billed as (
    select invoice_allocations.resource_kind, invoice_allocations.resource_id,
           invoice_allocations.app_id, sum(invoice_allocations.amount_cents) as billed_cents
    from invoice_allocations
    join invoice using (org_id, invoice_id)
    join invoice_lines using (org_id, invoice_id, line_no)
    where invoice_lines.adjusts_period_date is null
    group by 1, 2, 3
),

rerated as (
    select rated_allocations.resource_kind, rated_allocations.resource_id,
           rated_allocations.app_id, sum(rated_allocations.amount_cents) as rerated_cents
    from rated_allocations
    join invoice using (org_id)
    group by 1, 2, 3
),

paired as (
    select resource_kind, resource_id, app_id, billed.billed_cents, rerated.rerated_cents,
           coalesce(rerated.rerated_cents, 0) - coalesce(billed.billed_cents, 0)
               as difference_cents
    from billed
    full join rerated using (resource_kind, resource_id, app_id)
)

select paired.resource_kind, paired.resource_id, apps.name as app_name, paired.billed_cents,
       paired.rerated_cents, paired.difference_cents
from paired
join invoice on true
left join apps on apps.org_id = invoice.org_id and apps.app_id = paired.app_id
order by abs(paired.difference_cents) desc,
         coalesce(paired.billed_cents, paired.rerated_cents) desc, paired.resource_id
