-- The verified invoices, for content_hashes to recompute their hashes from the stored lines:
-- creates hashed_invoices.
create temp table hashed_invoices on commit drop as
select org_id, invoice_id, invoice_number, subtotal_cents
from verified_invoices
