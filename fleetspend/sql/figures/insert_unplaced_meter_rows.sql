-- The cells of figure_cells with no meter row: rows of their own (resources 0, nothing
-- consumed).
insert into rollup_usage_daily (
    org_id, usage_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at
)
select cells.org_id, cells.usage_date, cells.app_id, cells.region_code, cells.preset_code,
       cells.product, 0, 0, cells.cents / 100.0, 0,
       cast(cells.usage_date as timestamp) at time zone 'UTC'
from figure_cells as cells
where not exists (
    select from rollup_usage_daily as daily
    where daily.org_id = cells.org_id and daily.usage_date = cells.usage_date
      and daily.app_id = cells.app_id and daily.region_code = cells.region_code
      and daily.preset_code = cells.preset_code and daily.product = cells.product
)
