-- What one machine was charged on one invoice: its allocation of every line, with the line and
-- the price book figures behind the line's unit price (for the arithmetic a page shows).
-- Params: org_id, machine_id, invoice_id; group_by, group_key (as in invoice_group_total: the
-- group the machine was opened from).
-- Returns: line_no, product, product_name, description, region_code, preset_code, memory_mb,
-- price_list_name, consumed_quantity, consumed_unit, quantity, pricing_unit,
-- consumed_per_pricing_unit, unit_price, amount_precise, amount_cents, line_amount_precise,
-- line_amount_cents, price_markup, cpus, cpu_kind, included_memory_mb, vcpu_rate,
-- ram_extra_rate (the last five only for machine runtime), is_in_group.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with machine_allocations as (
    select
        line_no,
        consumed_quantity,
        quantity,
        amount_precise,
        amount_cents
    from invoice_allocations
    where org_id = :org_id
      and invoice_id = :invoice_id
      and resource_id = :machine_id
),

lines as (
    select
        invoice_lines.*,
        invoice_line_group_key(:group_by, invoice_lines) = :group_key as is_in_group
    from invoice_lines
    where org_id = :org_id
      and invoice_id = :invoice_id
),

final as (
    select
        machine_allocations.line_no,
        lines.product,
        products.name as product_name,
        lines.description,
        lines.region_code,
        lines.preset_code,
        lines.memory_mb,
        price_lists.name as price_list_name,
        machine_allocations.consumed_quantity,
        lines.consumed_unit,
        machine_allocations.quantity,
        lines.pricing_unit,
        products.consumed_per_pricing_unit,
        lines.unit_price,
        machine_allocations.amount_precise,
        machine_allocations.amount_cents,
        lines.amount_precise as line_amount_precise,
        lines.amount_cents as line_amount_cents,
        regions.price_markup,
        presets.cpus,
        presets.cpu_kind,
        presets.cpus * cpu_kinds.included_memory_mb_per_cpu as included_memory_mb,
        case presets.cpu_kind
            when 'shared' then price_book.vcpu_shared
            when 'performance' then price_book.vcpu_performance
        end as vcpu_rate,
        price_book.ram_extra as ram_extra_rate,
        lines.is_in_group
    from machine_allocations
    inner join lines on lines.line_no = machine_allocations.line_no
    inner join products on products.product = lines.product
    inner join price_lists on price_lists.price_list_id = lines.price_list_id
    inner join regions on regions.region_code = lines.region_code
    left join presets
        on lines.product = 'machine_runtime'
        and presets.preset_code = lines.preset_code
    left join cpu_kinds on cpu_kinds.cpu_kind = presets.cpu_kind
    left join price_book
        on price_book.price_list_id = lines.price_list_id
        and price_book.egress_group = regions.egress_group
)

select * from final
order by line_no
