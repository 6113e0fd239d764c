-- Seals the hashed drafts: status finalized, finalized_at = finalized_at and their content
-- hash (content_hashes). Returns org_id, invoice_id, invoice_number of each invoice sealed.
update invoices
set status = 'finalized', finalized_at = :finalized_at, content_hash = content_hashes.content_hash
from content_hashes
where invoices.org_id = content_hashes.org_id
  and invoices.invoice_id = content_hashes.invoice_id
returning invoices.org_id, invoices.invoice_id, invoices.invoice_number
