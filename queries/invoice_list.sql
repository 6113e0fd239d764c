-- One organization's invoices, newest period first, each with the change against the invoice
-- of the month before it. Drafts are estimates: their month is not invoiced yet.
-- Params: org_id.
-- Returns: each invoice's header (every column of the invoice_headers view, migration 0020),
-- previous_total_cents (null for the first), change_cents.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with org_invoices as (
    select *
    from invoice_headers
    where org_id = :org_id
),

final as (
    select
        org_invoices.*,
        lag(org_invoices.total_cents) over (order by org_invoices.period_start_date)
            as previous_total_cents,
        org_invoices.total_cents
            - lag(org_invoices.total_cents) over (order by org_invoices.period_start_date)
            as change_cents
    from org_invoices
)

select * from final
order by period_start_date desc
