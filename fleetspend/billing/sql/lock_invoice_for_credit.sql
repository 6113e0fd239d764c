-- The invoice numbered invoice_number, locked for a credit note: org_id, invoice_id,
-- invoice_number, status, subtotal_cents, credits_cents.
select org_id, invoice_id, invoice_number, status, subtotal_cents, credits_cents
from invoices
where invoice_number = :invoice_number
for update
