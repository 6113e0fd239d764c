-- Continues billing's resource_products CTEs (rating.RESOURCE_PRODUCTS_CTES): the staged sums
-- priced, as per-resource daily rows (per org, UTC day, resource, product and preset).
-- Continued by add_onto_resource_days.sql or in_day_order.sql.
insert into rollup_resource_daily (
    org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id,
    region_code, consumed_quantity, pricing_quantity, amount_precise, last_hour_at
)
select org_id, usage_date, resource_id, product, coalesce(preset_code, '') as preset_code,
       min(resource_kind) as resource_kind, min(app_id) as app_id,
       min(region_code) as region_code, sum(consumed_quantity) as consumed_quantity,
       sum(quantity) as pricing_quantity, sum(amount_precise) as amount_precise,
       max(last_hour_at) as last_hour_at
from resource_products
group by 1, 2, 3, 4, 5
