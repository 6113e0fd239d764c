-- Continues withdrawn_months.sql: the monthly meter rows of the withdrawn months, summed again
-- from their meter rows (a cell left with no meter row has no monthly row).
insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select
    daily.org_id,
    withdrawn.month_date,
    daily.app_id,
    daily.region_code,
    daily.preset_code,
    daily.product,
    sum(daily.consumed_quantity),
    sum(daily.pricing_quantity),
    sum(daily.amount_precise),
    count(*)
from rollup_usage_daily as daily
inner join withdrawn
    on withdrawn.org_id = daily.org_id
    and daily.usage_date >= withdrawn.month_date
    and daily.usage_date < withdrawn.next_month_date
group by 1, 2, 3, 4, 5, 6
order by 1, 3
