-- Every allocation of one invoice's lines to the machines and volumes behind them, in line
-- then resource order, with the app each belongs to.
-- Params: org_id, invoice_id.
-- Returns: line_no, resource_kind, resource_id, app_id, app_name, consumed_quantity, quantity,
-- amount_precise, amount_cents.
with allocations as (
    select *
    from invoice_allocations
    where org_id = :org_id
      and invoice_id = :invoice_id
),

final as (
    select
        allocations.line_no,
        allocations.resource_kind,
        allocations.resource_id,
        allocations.app_id,
        apps.name as app_name,
        allocations.consumed_quantity,
        allocations.quantity,
        allocations.amount_precise,
        allocations.amount_cents
    from allocations
    left join apps
        on apps.org_id = allocations.org_id
        and apps.app_id = allocations.app_id
)

select * from final
order by line_no, resource_id
