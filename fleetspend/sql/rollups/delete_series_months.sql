-- Continues months.sql: deletes the months' anomaly-search series (rollup_app_region_series).
delete from rollup_app_region_series as series
using months
where series.org_id = months.org_id and series.month_date = months.month_date
