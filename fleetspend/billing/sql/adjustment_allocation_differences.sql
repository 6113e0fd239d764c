-- Adds to adjustment_allocations, per line key and resource of the carried month adjusted,
-- the re-rated allocation (rated_allocations) minus what was allocated to it so far (the
-- allocations of billed_lines). The differences follow (rerated_minus_billed.sql), then the
-- pairing (adjustment_allocation_pairs.sql).
insert into adjustment_allocations
with rerated as (
    select rated_allocations.org_id,
           invoice_line_key(rated_lines.product, rated_lines.price_list_id,
                            rated_lines.region_code, rated_lines.preset_code,
                            rated_lines.memory_mb, rated_lines.egress_group) as line_key,
           rated_allocations.resource_kind, rated_allocations.resource_id,
           rated_allocations.app_id, rated_allocations.consumed_quantity,
           rated_allocations.quantity, rated_allocations.amount_precise,
           rated_allocations.amount_cents
    from rated_allocations
    join rated_lines using (org_id, line_no)
),

billed as (
    select billed_lines.org_id, billed_lines.line_key, invoice_allocations.resource_kind,
           invoice_allocations.resource_id, invoice_allocations.app_id,
           sum(invoice_allocations.consumed_quantity) as consumed_quantity,
           sum(invoice_allocations.quantity) as quantity,
           sum(invoice_allocations.amount_precise) as amount_precise,
           sum(invoice_allocations.amount_cents) as amount_cents
    from billed_lines
    join invoice_allocations using (org_id, invoice_id, line_no)
    group by 1, 2, 3, 4, 5
)

select coalesce(rerated.org_id, billed.org_id) as org_id,
       cast(:adjusted as date) as adjusts_period_date,
       coalesce(rerated.line_key, billed.line_key) as line_key,
       coalesce(rerated.resource_kind, billed.resource_kind) as resource_kind,
       coalesce(rerated.resource_id, billed.resource_id) as resource_id,
       coalesce(rerated.app_id, billed.app_id) as app_id,
