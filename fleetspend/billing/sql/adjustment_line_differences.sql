-- Adds to adjustment_lines, per line key of the carried month adjusted, the re-rated line
-- (rated_lines) minus what was billed for it (billed_lines), either side possibly missing.
-- The differences follow (rerated_minus_billed.sql), then the pairing
-- (adjustment_line_pairs.sql).
insert into adjustment_lines
with rerated as (
    select rated_lines.*,
           invoice_line_key(rated_lines.product, rated_lines.price_list_id,
                            rated_lines.region_code, rated_lines.preset_code,
                            rated_lines.memory_mb, rated_lines.egress_group) as line_key
    from rated_lines
),

billed as (
    select org_id, line_key, product, price_list_id, region_code, preset_code, memory_mb,
           egress_group, unit_price, consumed_unit, pricing_unit, min(description) as description,
           sum(consumed_quantity) as consumed_quantity, sum(quantity) as quantity,
           sum(amount_precise) as amount_precise, sum(amount_cents) as amount_cents
    from billed_lines
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
),

own_invoice as (
    select org_id, invoice_number from invoices
    where period_start_date = :adjusted and status = any(:sealed_statuses)
)

select coalesce(rerated.org_id, billed.org_id) as org_id,
       cast(:adjusted as date) as adjusts_period_date,
       coalesce(rerated.line_key, billed.line_key) as line_key,
       coalesce(rerated.product, billed.product) as product,
       coalesce(rerated.price_list_id, billed.price_list_id) as price_list_id,
       coalesce(rerated.region_code, billed.region_code) as region_code,
       coalesce(rerated.preset_code, billed.preset_code) as preset_code,
       coalesce(rerated.memory_mb, billed.memory_mb) as memory_mb,
       coalesce(rerated.egress_group, billed.egress_group) as egress_group,
       coalesce(rerated.unit_price, billed.unit_price) as unit_price,
       coalesce(rerated.consumed_unit, billed.consumed_unit) as consumed_unit,
       coalesce(rerated.pricing_unit, billed.pricing_unit) as pricing_unit,
       format('Adjustment to %s (%s): %s', to_char(cast(:adjusted as date), 'FMMonth YYYY'),
              own_invoice.invoice_number,
              coalesce(rerated.description, billed.description)) as description,
