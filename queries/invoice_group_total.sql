-- One group of an invoice's lines (the whole invoice, a product, a region, a VM size or one
-- line): how many lines, their cents and the group's name, from the lines themselves.
-- Params: org_id, invoice_id, group_by ('invoice', 'product', 'region', 'vm_size', 'line'),
-- group_key: the key invoice_line_group_key (migration 0020) gives the group's lines ('' for
-- the whole invoice; '-' the region or VM size of lines without one).
-- Returns: lines, amount_cents, group_name (the product's name, the line's description, else
-- null).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with group_lines as (
    select
        invoice_lines.amount_cents,
        products.name as product_name,
        invoice_lines.description
    from invoice_lines
    inner join products on products.product = invoice_lines.product
    where invoice_lines.org_id = :org_id
      and invoice_lines.invoice_id = :invoice_id
      and invoice_line_group_key(:group_by, invoice_lines) = :group_key
),

final as (
    select
        count(*) as lines,
        cast(coalesce(sum(amount_cents), 0) as bigint) as amount_cents,
        case cast(:group_by as text)
            when 'product' then min(product_name)
            when 'line' then min(description)
        end as group_name
    from group_lines
)

select * from final
