-- One invoice's lines summed per group of one grouping (a product, a region, a VM size or a
-- line), in the order the groups first appear among the lines.
-- Params: org_id, invoice_id, group_by ('product', 'region', 'vm_size', 'line').
-- Returns: group_key (as invoice_line_group_key gives it: the key a group is opened by),
-- group_name (the product's name, the line's description, else null), lines, amount_cents.
with keyed_lines as (
    select
        invoice_lines.line_no,
        invoice_line_group_key(:group_by, invoice_lines) as group_key,
        case cast(:group_by as text)
            when 'product' then products.name
            when 'line' then invoice_lines.description
        end as group_name,
        invoice_lines.amount_cents
    from invoice_lines
    inner join products on products.product = invoice_lines.product
    where invoice_lines.org_id = :org_id
      and invoice_lines.invoice_id = :invoice_id
),

final as (
    select
        group_key,
        min(group_name) as group_name,
        count(*) as lines,
        cast(sum(amount_cents) as bigint) as amount_cents,
        min(line_no) as first_line_no
    from keyed_lines
    group by group_key
)

select group_key, group_name, lines, amount_cents from final
order by first_line_no
