-- The numbered adjustment lines appended to the staged month (rated_lines), which drafting
-- writes.
insert into rated_lines (org_id, line_no, product, price_list_id, region_code, preset_code,
                         memory_mb, egress_group, unit_price, consumed_unit, pricing_unit,
                         consumed_quantity, quantity, amount_precise, amount_cents,
                         description, adjusts_period_date)
select org_id, line_no, product, price_list_id, region_code, preset_code, memory_mb,
       egress_group, unit_price, consumed_unit, pricing_unit, consumed_quantity, quantity,
       amount_precise, amount_cents, description, adjusts_period_date
from numbered_adjustments
