-- Continues withdrawn_months.sql: deletes the figures' own meter rows of the withdrawn months
-- (resources 0: cents with no usage under them; a row summed from usage has a resource).
delete from rollup_usage_daily as daily
using withdrawn
where daily.org_id = withdrawn.org_id
  and daily.usage_date >= withdrawn.month_date
  and daily.usage_date < withdrawn.next_month_date
  and daily.resources = 0
