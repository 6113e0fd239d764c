-- The staged allocations (rated_allocations) written to the drafts of period_start.
insert into invoice_allocations (
    org_id, invoice_id, line_no, resource_kind, resource_id, app_id, consumed_quantity,
    quantity, amount_precise, amount_cents
)
select invoices.org_id, invoices.invoice_id, rated_allocations.line_no,
       rated_allocations.resource_kind, rated_allocations.resource_id, rated_allocations.app_id,
       rated_allocations.consumed_quantity, rated_allocations.quantity,
       rated_allocations.amount_precise, rated_allocations.amount_cents
from rated_allocations
join invoices
  on invoices.org_id = rated_allocations.org_id
 and invoices.period_start_date = :period_start
 and invoices.status = 'draft'
