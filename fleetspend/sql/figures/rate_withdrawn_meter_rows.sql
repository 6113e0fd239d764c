-- Continues withdrawn_months.sql: every meter row of the withdrawn months takes back its rated
-- amount (its per-resource rows summed, kept beside the cents), where it carries other cents.
update rollup_usage_daily as daily
set amount_precise = daily.rated_amount_precise
from withdrawn
where daily.org_id = withdrawn.org_id
  and daily.usage_date >= withdrawn.month_date
  and daily.usage_date < withdrawn.next_month_date
  and daily.amount_precise <> daily.rated_amount_precise
