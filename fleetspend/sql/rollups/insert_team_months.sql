-- Continues months.sql: the months' team rows per team (rollup_team_monthly), summed
-- whole from the team daily rows of each month (rebuilt before).
insert into rollup_team_monthly (
    org_id, month_date, team_id, runtime_seconds, runtime_amount_precise, amount_precise
)
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date),
       daily.team_id, sum(daily.runtime_seconds), sum(daily.runtime_amount_precise),
       sum(daily.amount_precise)
from rollup_team_daily as daily
inner join months
    on months.org_id = daily.org_id
    and daily.usage_date >= months.month_date
    and daily.usage_date < months.month_date + interval '1 month'
group by 1, 2, 3
order by 1, 2
