-- The allocations of the numbered adjustment lines appended to the staged month
-- (rated_allocations), those that change anything.
insert into rated_allocations (org_id, line_no, resource_kind, resource_id, app_id,
                               consumed_quantity, quantity, amount_precise, amount_cents)
select adjustment_allocations.org_id, numbered_adjustments.line_no,
       adjustment_allocations.resource_kind, adjustment_allocations.resource_id,
       adjustment_allocations.app_id, adjustment_allocations.consumed_quantity,
       adjustment_allocations.quantity, adjustment_allocations.amount_precise,
       adjustment_allocations.amount_cents
from adjustment_allocations
join numbered_adjustments using (org_id, adjusts_period_date, line_key)
where adjustment_allocations.consumed_quantity <> 0
   or adjustment_allocations.amount_precise <> 0
   or adjustment_allocations.amount_cents <> 0
