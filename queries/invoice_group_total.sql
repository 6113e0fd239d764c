-- One group of an invoice's lines (the whole invoice, a product, a region, a VM size or one
-- line): how many lines and their cents, from the lines themselves.
-- Params: org_id, invoice_id, group_by ('invoice', 'product', 'region', 'vm_size', 'line'),
-- group_key (ignored for 'invoice'; '-' is the VM size of lines without one).
-- Returns: lines, amount_cents.
with group_lines as (
    select amount_cents
    from invoice_lines
    where org_id = :org_id
      and invoice_id = :invoice_id
      and case cast(:group_by as text)
          when 'invoice' then true
          when 'product' then product = :group_key
          when 'region' then coalesce(region_code, '-') = :group_key
          when 'vm_size' then coalesce(preset_code, '-') = :group_key
          when 'line' then cast(line_no as text) = :group_key
      end
),

final as (
    select
        count(*) as lines,
        cast(coalesce(sum(amount_cents), 0) as bigint) as amount_cents
    from group_lines
)

select * from final
