-- The sums of figure_org_days with no org row: rows of their own (resources 0, nothing
-- consumed).
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select sums.org_id, sums.usage_date, sums.product, 0, 0, sums.amount_precise, 0
from figure_org_days as sums
where not exists (
    select from rollup_org_daily as org_daily
    where org_daily.org_id = sums.org_id
      and org_daily.usage_date = sums.usage_date
      and org_daily.product = sums.product
)
