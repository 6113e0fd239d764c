-- Continues months.sql: deletes the months' team monthly (per team) rows (rollup_team_monthly).
delete from rollup_team_monthly as monthly
using months
where monthly.org_id = months.org_id and monthly.month_date = months.month_date
