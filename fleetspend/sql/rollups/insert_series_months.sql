-- Continues months.sql: each app and region's days of the months in cents
-- (rollup_app_region_series), from the narrow daily rows (rebuilt before).
insert into rollup_app_region_series (org_id, month_date, app_id, region_code, days, day_cents)
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date), daily.app_id,
       daily.region_code,
       array_agg(cast(extract(day from daily.usage_date) as smallint) order by daily.usage_date),
       array_agg(cast(round(daily.amount_precise * 100) as bigint) order by daily.usage_date)
from rollup_app_region_daily as daily
inner join months
    on months.org_id = daily.org_id
    and daily.usage_date >= months.month_date
    and daily.usage_date < months.month_date + interval '1 month'
group by 1, 2, 3, 4
order by 1, 2
