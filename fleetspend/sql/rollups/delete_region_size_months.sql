-- Continues months.sql: deletes the months' narrow monthly (per region, preset, product) rows
-- (rollup_region_size_monthly).
delete from rollup_region_size_monthly as monthly
using months
where monthly.org_id = months.org_id and monthly.month_date = months.month_date
