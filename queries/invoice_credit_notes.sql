-- The credit notes against one invoice, oldest first.
-- Params: org_id, invoice_id.
-- Returns: credit_note_number, issued_at (UTC), amount_cents, reason, support_ticket.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select
    credit_note_number,
    issued_at,
    amount_cents,
    reason,
    support_ticket
from credit_notes
where org_id = :org_id
  and invoice_id = :invoice_id
order by issued_at, credit_note_number
