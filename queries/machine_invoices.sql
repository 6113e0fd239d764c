-- The invoices one machine was charged on, newest first, with its cents on each.
-- Params: org_id, machine_id.
-- Returns: invoice_number, period_start_date, status, lines, amount_cents.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with machine_invoices as (
    select
        invoice_id,
        count(*) as lines,
        cast(sum(amount_cents) as bigint) as amount_cents
    from invoice_allocations
    where org_id = :org_id
      and resource_id = :machine_id
    group by invoice_id
),

final as (
    select
        invoices.invoice_number,
        invoices.period_start_date,
        invoices.status,
        machine_invoices.lines,
        machine_invoices.amount_cents
    from machine_invoices
    inner join invoices
        on invoices.org_id = :org_id
        and invoices.invoice_id = machine_invoices.invoice_id
)

select * from final
order by period_start_date desc
