-- Every meter row of the figure_orgs in the month (month_date to next_month_date) takes its
-- cell's cents from figure_cells (none: zero), in one pass.
update rollup_usage_daily as daily
set amount_precise = coalesce(cells.cents, 0) / 100.0
from rollup_usage_daily as month_row
left join figure_cells as cells
    on month_row.org_id = cells.org_id and month_row.usage_date = cells.usage_date
    and month_row.app_id = cells.app_id and month_row.region_code = cells.region_code
    and month_row.preset_code = cells.preset_code and month_row.product = cells.product
where month_row.org_id in (select org_id from figure_orgs)
  and month_row.usage_date >= :month_date and month_row.usage_date < :next_month_date
  and daily.org_id = month_row.org_id and daily.usage_date = month_row.usage_date
  and daily.app_id = month_row.app_id and daily.region_code = month_row.region_code
  and daily.preset_code = month_row.preset_code and daily.product = month_row.product
