-- Continues months.sql: deletes the months' narrow monthly (per app, region) rows
-- (rollup_app_region_monthly).
delete from rollup_app_region_monthly as monthly
using months
where monthly.org_id = months.org_id and monthly.month_date = months.month_date
