-- One group of an invoice's lines (the whole invoice, a product, a region, a VM size or one
-- line): how many lines, their cents and the group's name, from the lines themselves.
-- Params: org_id, invoice_id, group_by ('invoice', 'product', 'region', 'vm_size', 'line'),
-- group_key (ignored for 'invoice'; '-' is the VM size of lines without one).
-- Returns: lines, amount_cents, group_name (the product's name, the line's description, else
-- null).
with group_lines as (
    select
        invoice_lines.amount_cents,
        products.name as product_name,
        invoice_lines.description
    from invoice_lines
    inner join products on products.product = invoice_lines.product
    where invoice_lines.org_id = :org_id
      and invoice_lines.invoice_id = :invoice_id
      and case cast(:group_by as text)
          when 'invoice' then true
          when 'product' then invoice_lines.product = :group_key
          when 'region' then coalesce(invoice_lines.region_code, '-') = :group_key
          when 'vm_size' then coalesce(invoice_lines.preset_code, '-') = :group_key
          when 'line' then cast(invoice_lines.line_no as text) = :group_key
      end
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
