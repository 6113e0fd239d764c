-- Continues withdrawn_months.sql: deletes the monthly meter rows of the withdrawn months.
delete from rollup_usage_monthly as monthly
using withdrawn
where monthly.org_id = withdrawn.org_id
  and monthly.month_date = withdrawn.month_date
