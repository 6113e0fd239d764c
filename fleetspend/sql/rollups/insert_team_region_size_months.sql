-- Continues months.sql: the months' team rows per team, region, preset
-- (rollup_team_region_size_monthly), summed whole from the team daily rows of each month (rebuilt
-- before).
insert into rollup_team_region_size_monthly (
    org_id, month_date, team_id, region_code, preset_code, runtime_seconds, runtime_amount_precise,
    amount_precise
)
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date),
       daily.team_id, daily.region_code, daily.preset_code, sum(daily.runtime_seconds),
       sum(daily.runtime_amount_precise), sum(daily.amount_precise)
from rollup_team_region_size_daily as daily
inner join months
    on months.org_id = daily.org_id
    and daily.usage_date >= months.month_date
    and daily.usage_date < months.month_date + interval '1 month'
group by 1, 2, 3, 4, 5
order by 1, 2
