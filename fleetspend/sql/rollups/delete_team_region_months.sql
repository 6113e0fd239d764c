-- Continues months.sql: deletes the months' team monthly (per team, region) rows
-- (rollup_team_region_monthly).
delete from rollup_team_region_monthly as monthly
using months
where monthly.org_id = months.org_id and monthly.month_date = months.month_date
