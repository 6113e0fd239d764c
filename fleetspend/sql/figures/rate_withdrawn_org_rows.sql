-- Continues withdrawn_months.sql: the org rows of the withdrawn months take back their rated
-- amounts, the meter rows' rated amounts summed per org, day and product (the same sums as
-- their per-resource rows'), where they carry other cents.
, rated as (
    select
        daily.org_id,
        daily.usage_date,
        daily.product,
        sum(daily.rated_amount_precise) as amount_precise
    from rollup_usage_daily as daily
    inner join withdrawn
        on withdrawn.org_id = daily.org_id
        and daily.usage_date >= withdrawn.month_date
        and daily.usage_date < withdrawn.next_month_date
    group by 1, 2, 3
)

update rollup_org_daily as org_daily
set amount_precise = rated.amount_precise
from rated
where org_daily.org_id = rated.org_id
  and org_daily.usage_date = rated.usage_date
  and org_daily.product = rated.product
  and org_daily.amount_precise <> rated.amount_precise
