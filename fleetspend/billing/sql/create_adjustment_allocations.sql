-- An empty adjustment_allocations, shaped like the staged allocations plus the month
-- adjusted and the line key.
create temp table adjustment_allocations on commit drop as
select org_id, null::date as adjusts_period_date, null::text as line_key, resource_kind,
       resource_id, app_id, consumed_quantity, quantity, amount_precise, amount_cents
from rated_allocations
limit 0
