-- The org rows take their sums from figure_org_days (their machines counted as before).
update rollup_org_daily as org_daily
set amount_precise = sums.amount_precise
from figure_org_days as sums
where org_daily.org_id = sums.org_id
  and org_daily.usage_date = sums.usage_date
  and org_daily.product = sums.product
