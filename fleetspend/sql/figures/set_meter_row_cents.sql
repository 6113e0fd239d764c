-- Every meter row of the figure_orgs in the month takes its cents from figure_cells, which
-- holds one cell for each (spread_cents.sql: has_meter_row), in one pass.
update rollup_usage_daily as daily
set amount_precise = cells.cents / 100.0
from figure_cells as cells
where cells.has_meter_row
  and daily.org_id in (select org_id from figure_orgs)
  and daily.usage_date >= :month_date and daily.usage_date < :next_month_date
  and daily.org_id = cells.org_id and daily.usage_date = cells.usage_date
  and daily.app_id = cells.app_id and daily.region_code = cells.region_code
  and daily.preset_code = cells.preset_code and daily.product = cells.product
