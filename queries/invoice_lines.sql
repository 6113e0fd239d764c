-- Every line of one invoice in line order, with the names a reader needs.
-- Params: org_id, invoice_id.
-- Returns: line_no, product, product_name, region_code, preset_code, memory_mb, egress_group,
-- price_list_name, description, consumed_quantity, consumed_unit, quantity, pricing_unit,
-- unit_price, amount_precise, amount_cents.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with lines as (
    select *
    from invoice_lines
    where org_id = :org_id
      and invoice_id = :invoice_id
),

final as (
    select
        lines.line_no,
        lines.product,
        products.name as product_name,
        lines.region_code,
        lines.preset_code,
        lines.memory_mb,
        lines.egress_group,
        price_lists.name as price_list_name,
        lines.description,
        lines.consumed_quantity,
        lines.consumed_unit,
        lines.quantity,
        lines.pricing_unit,
        lines.unit_price,
        lines.amount_precise,
        lines.amount_cents
    from lines
    inner join products on products.product = lines.product
    inner join price_lists on price_lists.price_list_id = lines.price_list_id
)

select * from final
order by line_no
