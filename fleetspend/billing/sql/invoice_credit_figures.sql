-- An invoice's credits and total (after a credit note): credits_cents, total_cents.
-- Params: org_id, invoice_id.
select credits_cents, total_cents
from invoices
where org_id = :org_id and invoice_id = :invoice_id
