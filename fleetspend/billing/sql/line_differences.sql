-- The fields in which paired lines (verified_line_pairs) differ: org_id, invoice_number, line,
-- field, stored, expected, carried_by. Values are compared as numbers (2592000.000000 equals
-- 2592000) and shown as text; a comparison with a missing side is null, so only the presence
-- row reports a missing or unexpected line.
select pairs.org_id, pairs.invoice_number, pairs.line, compared.field, compared.stored,
       compared.expected, pairs.carried_by
from verified_line_pairs as pairs
cross join lateral (values
    ('line', case when pairs.stored_line_no is not null then 'present' else 'missing' end,
             case when pairs.expected_line_no is not null then 'present'
                  else 'not backed by usage' end,
     (pairs.stored_line_no is null) <> (pairs.expected_line_no is null)),
    ('consumed_quantity', pairs.stored_consumed::text, pairs.consumed::text,
     pairs.stored_consumed <> pairs.consumed),
    ('quantity', pairs.stored_quantity::text, pairs.quantity::text,
     pairs.stored_quantity <> pairs.quantity),
    ('unit_price', pairs.stored_unit_price::text, pairs.unit_price::text,
     pairs.stored_unit_price <> pairs.unit_price),
    ('amount_precise', pairs.stored_precise::text, pairs.precise::text,
     pairs.stored_precise <> pairs.precise),
    ('amount_cents', pairs.stored_cents::text, pairs.cents::text,
     pairs.stored_cents <> pairs.cents),
    -- adjustments that do not make up the difference (too much, too little, or for nothing)
    ('amount_cents with later adjustments',
     (coalesce(pairs.stored_cents, 0) + pairs.carried_cents)::text,
     coalesce(pairs.cents, 0)::text,
     pairs.carried_by is null and pairs.carried_cents <> 0
     and coalesce(pairs.stored_cents, 0) + pairs.carried_cents <> coalesce(pairs.cents, 0))
) as compared (field, stored, expected, differs)
where compared.differs
order by pairs.org_id, pairs.line, compared.field
