-- Issues a credit note on invoice_number for amount_cents with its reason and support_ticket,
-- once per request_key (fleetspend_auth.issue_support_credit, in the caller's grant): the
-- credit note's row.
select *
from fleetspend_auth.issue_support_credit(:invoice_number, :amount_cents, :reason,
                                          :support_ticket, :request_key)
