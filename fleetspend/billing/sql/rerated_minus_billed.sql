-- Continues adjustment_line_differences.sql or adjustment_allocation_differences.sql: the
-- re-rated minus the billed quantities, precise amount and cents (either side may be missing).
       coalesce(rerated.consumed_quantity, 0) - coalesce(billed.consumed_quantity, 0)
           as consumed_quantity,
       coalesce(rerated.quantity, 0) - coalesce(billed.quantity, 0) as quantity,
       coalesce(rerated.amount_precise, 0) - coalesce(billed.amount_precise, 0)
           as amount_precise,
       coalesce(rerated.amount_cents, 0) - coalesce(billed.amount_cents, 0) as amount_cents
