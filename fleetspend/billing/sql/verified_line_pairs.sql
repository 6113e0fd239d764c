-- Creates verified_line_pairs: each stored line of verified_invoices paired with the re-rated
-- line (rated_lines) of the same key, either side possibly missing, numbered (pair_no), with
-- what the month's adjustment lines on later invoices carry of the difference. A line's key is
-- invoice_line_key(...) (migration 0023), a plain hashable equality; adjustment lines are not
-- the month's own: they count as carrying a difference of the month period_start they adjust
-- (org_ids).
create temp table verified_line_pairs on commit drop as
with stored as (
    select invoice_lines.*, verified_invoices.invoice_number,
           invoice_line_key(invoice_lines.product, invoice_lines.price_list_id,
                            invoice_lines.region_code, invoice_lines.preset_code,
                            invoice_lines.memory_mb, invoice_lines.egress_group) as line_key
    from invoice_lines
    join verified_invoices using (org_id, invoice_id)
    where invoice_lines.adjusts_period_date is null
),

expected as (
    select rated_lines.*, verified_invoices.invoice_id, verified_invoices.invoice_number,
           invoice_line_key(rated_lines.product, rated_lines.price_list_id,
                            rated_lines.region_code, rated_lines.preset_code,
                            rated_lines.memory_mb, rated_lines.egress_group) as line_key
    from rated_lines
    join verified_invoices using (org_id)
),

-- the month's adjustment lines on later invoices (late usage carried)
carried as (
    select invoice_lines.org_id,
           invoice_line_key(invoice_lines.product, invoice_lines.price_list_id,
                            invoice_lines.region_code, invoice_lines.preset_code,
                            invoice_lines.memory_mb, invoice_lines.egress_group) as line_key,
           sum(invoice_lines.consumed_quantity) as consumed_quantity,
           sum(invoice_lines.amount_cents) as amount_cents,
           string_agg(distinct invoices.invoice_number, ', ') as carried_by
    from invoice_lines
    join invoices using (org_id, invoice_id)
    where invoice_lines.adjusts_period_date = :period_start
      and invoice_lines.org_id = any(:org_ids)
      and invoices.status <> 'void'
    group by 1, 2
),

pairs as (
    select coalesce(stored.org_id, expected.org_id) as org_id,
           coalesce(stored.line_key, expected.line_key) as line_key,
           coalesce(stored.invoice_id, expected.invoice_id) as invoice_id,
           coalesce(stored.invoice_number, expected.invoice_number) as invoice_number,
           coalesce(stored.description, expected.description) as line,
           stored.line_no as stored_line_no,
           expected.line_no as expected_line_no,
           stored.consumed_quantity as stored_consumed, expected.consumed_quantity as consumed,
           stored.quantity as stored_quantity, expected.quantity as quantity,
           stored.unit_price as stored_unit_price, expected.unit_price as unit_price,
           stored.amount_precise as stored_precise, expected.amount_precise as precise,
           stored.amount_cents as stored_cents, expected.amount_cents as cents
    from stored
    full join expected
      on expected.org_id = stored.org_id
     and expected.line_key = stored.line_key
)

select row_number() over () as pair_no,
       pairs.*,
       coalesce(carried.amount_cents, 0) as carried_cents,
       -- carried: the adjustments make up the whole difference, in quantity and in cents
       case when coalesce(pairs.stored_consumed, 0) + carried.consumed_quantity
                 = coalesce(pairs.consumed, 0)
             and coalesce(pairs.stored_cents, 0) + carried.amount_cents
                 = coalesce(pairs.cents, 0)
            then carried.carried_by end as carried_by
from pairs
left join carried
  on carried.org_id = pairs.org_id and carried.line_key = pairs.line_key
