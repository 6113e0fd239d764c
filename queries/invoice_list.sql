-- One organization's invoices, newest period first, each with the change against the invoice
-- of the month before it. Drafts are estimates: their month is not invoiced yet.
-- Params: org_id.
-- Returns: invoice_id, invoice_number, period_start_date, status, currency, subtotal_cents,
-- credits_cents, total_cents, previous_total_cents (null for the first), change_cents,
-- is_estimated.
with org_invoices as (
    select
        invoice_id,
        invoice_number,
        period_start_date,
        status,
        currency,
        subtotal_cents,
        credits_cents,
        total_cents
    from invoices
    where org_id = :org_id
),

final as (
    select
        org_invoices.*,
        lag(org_invoices.total_cents) over (order by org_invoices.period_start_date)
            as previous_total_cents,
        org_invoices.total_cents
            - lag(org_invoices.total_cents) over (order by org_invoices.period_start_date)
            as change_cents,
        org_invoices.status = 'draft' as is_estimated
    from org_invoices
)

select * from final
order by period_start_date desc
