-- One invoice of an organization, found by its number, with the invoice before it.
-- Params: org_id, invoice_number.
-- Returns: the invoice's header (every column of the invoice_headers view, migration 0020),
-- org_name, org_slug, previous_total_cents (null when there is no earlier invoice).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with invoice as (
    select *
    from invoice_headers
    where org_id = :org_id
      and invoice_number = :invoice_number
),

previous_invoice as (
    select invoices.total_cents
    from invoices
    inner join invoice on invoices.period_start_date < invoice.period_start_date
    where invoices.org_id = :org_id
    order by invoices.period_start_date desc
    limit 1
),

final as (
    select
        invoice.*,
        organizations.name as org_name,
        organizations.slug as org_slug,
        (select previous_invoice.total_cents from previous_invoice) as previous_total_cents
    from invoice
    inner join organizations on organizations.org_id = :org_id
)

select * from final
