-- An empty adjustment_lines, shaped like the staged lines plus the month adjusted and the
-- line key; each carried month adds its differences.
create temp table adjustment_lines on commit drop as
select org_id, null::date as adjusts_period_date, null::text as line_key, product,
       price_list_id, region_code, preset_code, memory_mb, egress_group, unit_price,
       consumed_unit, pricing_unit, description, consumed_quantity, quantity, amount_precise,
       amount_cents
from rated_lines
limit 0
