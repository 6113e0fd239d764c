-- Billed against re-rated per line of invoice invoice_number, every line (equal ones too),
-- after verification: description, line_no, billed_quantity, rerated_quantity, billed_cents,
-- rerated_cents, difference_cents.
select pairs.line as description,
       pairs.stored_line_no as line_no,
       pairs.stored_quantity as billed_quantity,
       pairs.quantity as rerated_quantity,
       pairs.stored_cents as billed_cents,
       pairs.cents as rerated_cents,
       coalesce(pairs.cents, 0) - coalesce(pairs.stored_cents, 0) as difference_cents
from verified_line_pairs as pairs
where pairs.invoice_number = :invoice_number
order by coalesce(pairs.stored_line_no, pairs.expected_line_no), pairs.line
