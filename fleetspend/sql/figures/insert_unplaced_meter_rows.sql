-- The cells of figure_cells with no meter row: rows of their own (resources 0, nothing
-- consumed, nothing rated).
insert into rollup_usage_daily (
    org_id, usage_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at,
    rated_amount_precise
)
select cells.org_id, cells.usage_date, cells.app_id, cells.region_code, cells.preset_code,
       cells.product, 0, 0, cells.cents / 100.0, 0,
       cast(cells.usage_date as timestamp) at time zone 'UTC', 0
from figure_cells as cells
where not cells.has_meter_row
