-- What one invoice charged a budget scope, in cents: its subtotal (the sum of its lines)
-- for the whole organization (team_ids and app_ids both null), else what its lines
-- allocated to the machines and volumes of the scope's apps.
-- Params: org_id, invoice_id; team_ids, app_ids (bigint[] or null).
-- Returns one row: amount_cents.
with organization_total as (
    select subtotal_cents as amount_cents
    from invoices
    where cast(:team_ids as bigint[]) is null
      and cast(:app_ids as bigint[]) is null
      and org_id = :org_id
      and invoice_id = :invoice_id
),

scoped_total as (
    select cast(coalesce(sum(invoice_allocations.amount_cents), 0) as bigint) as amount_cents
    from invoice_allocations
    inner join apps
        on apps.org_id = invoice_allocations.org_id
        and apps.app_id = invoice_allocations.app_id
    where (cast(:team_ids as bigint[]) is not null or cast(:app_ids as bigint[]) is not null)
      and invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
      and (cast(:team_ids as bigint[]) is null
           or apps.team_id = any(cast(:team_ids as bigint[])))
      and (cast(:app_ids as bigint[]) is null
           or apps.app_id = any(cast(:app_ids as bigint[])))
),

final as (
    select amount_cents from organization_total
    union all
    select amount_cents from scoped_total
    where cast(:team_ids as bigint[]) is not null or cast(:app_ids as bigint[]) is not null
)

select * from final
