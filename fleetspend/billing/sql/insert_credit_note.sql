-- A credit note against the locked invoice, numbered CN-<invoice number>-<n>: returns
-- credit_note_number, issued_at. Params: org_id, invoice_id, invoice_number, amount_cents,
-- reason, support_ticket, issued_by.
insert into credit_notes (
    org_id, invoice_id, credit_note_number, amount_cents, reason, support_ticket, issued_by
)
select :org_id, :invoice_id,
       format('CN-%s-%s', cast(:invoice_number as text), count(*) + 1),
       :amount_cents, :reason, :support_ticket, :issued_by
from credit_notes
where org_id = :org_id and invoice_id = :invoice_id
returning credit_note_number, issued_at
