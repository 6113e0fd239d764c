-- Every difference between the stored and the re-rated allocations within each pair of lines
-- of verified_line_pairs, paired by resource: org_id, invoice_number, line, resource_id, field,
-- stored, expected, and carried_by (the later invoices whose adjustments for period_start
-- make it up exactly, if any; org_ids).
with stored as (
    select pairs.pair_no, invoice_allocations.*
    from verified_line_pairs as pairs
    join invoice_allocations
      on invoice_allocations.org_id = pairs.org_id
     and invoice_allocations.invoice_id = pairs.invoice_id
     and invoice_allocations.line_no = pairs.stored_line_no
),

expected as (
    select pairs.pair_no, rated_allocations.*
    from verified_line_pairs as pairs
    join rated_allocations
      on rated_allocations.org_id = pairs.org_id
     and rated_allocations.line_no = pairs.expected_line_no
),

carried as (
    select invoice_lines.org_id,
           invoice_line_key(invoice_lines.product, invoice_lines.price_list_id,
                            invoice_lines.region_code, invoice_lines.preset_code,
                            invoice_lines.memory_mb, invoice_lines.egress_group) as line_key,
           invoice_allocations.resource_id,
           sum(invoice_allocations.consumed_quantity) as consumed_quantity,
           sum(invoice_allocations.amount_cents) as amount_cents,
           string_agg(distinct invoices.invoice_number, ', ') as carried_by
    from invoice_lines
    join invoices using (org_id, invoice_id)
    join invoice_allocations using (org_id, invoice_id, line_no)
    where invoice_lines.adjusts_period_date = :period_start
      and invoice_lines.org_id = any(:org_ids)
      and invoices.status <> 'void'
    group by 1, 2, 3
),

paired as (
    select coalesce(stored.pair_no, expected.pair_no) as pair_no,
           coalesce(stored.resource_id, expected.resource_id) as resource_id,
           stored.resource_id is not null as is_stored,
           expected.resource_id is not null as is_expected,
           stored.consumed_quantity as stored_consumed, expected.consumed_quantity as consumed,
           stored.amount_precise as stored_precise, expected.amount_precise as precise,
           stored.amount_cents as stored_cents, expected.amount_cents as cents
    from stored
    full join expected
      on expected.pair_no = stored.pair_no
     and expected.resource_id = stored.resource_id
)

select pairs.org_id, pairs.invoice_number, pairs.line, paired.resource_id, compared.field,
       compared.stored, compared.expected,
       case when coalesce(paired.stored_consumed, 0) + carried.consumed_quantity
                 = coalesce(paired.consumed, 0)
             and coalesce(paired.stored_cents, 0) + carried.amount_cents
                 = coalesce(paired.cents, 0)
            then carried.carried_by end as carried_by
from paired
join verified_line_pairs as pairs on pairs.pair_no = paired.pair_no
left join carried
  on carried.org_id = pairs.org_id
 and carried.line_key = pairs.line_key
 and carried.resource_id = paired.resource_id
cross join lateral (values
    ('allocation', case when paired.is_stored then 'present' else 'missing' end,
                   case when paired.is_expected then 'present' else 'not backed by usage' end,
     paired.is_stored <> paired.is_expected),
    ('consumed_quantity', paired.stored_consumed::text, paired.consumed::text,
     paired.stored_consumed <> paired.consumed),
    ('amount_precise', paired.stored_precise::text, paired.precise::text,
     paired.stored_precise <> paired.precise),
    ('amount_cents', paired.stored_cents::text, paired.cents::text,
     paired.stored_cents <> paired.cents)
) as compared (field, stored, expected, differs)
where compared.differs
order by pairs.org_id, pairs.line, paired.resource_id, compared.field
