-- Continues withdrawn_months.sql: deletes the figures' own org rows of the withdrawn months
-- (resources 0, nothing consumed).
delete from rollup_org_daily as org_daily
using withdrawn
where org_daily.org_id = withdrawn.org_id
  and org_daily.usage_date >= withdrawn.month_date
  and org_daily.usage_date < withdrawn.next_month_date
  and org_daily.resources = 0
