-- Continues batch.sql: the batch's team rows per team (rollup_team_daily), summed from
-- the team and region rows (rollup_team_region_daily, rebuilt
-- before).
insert into rollup_team_daily (
    org_id, usage_date, team_id, runtime_seconds, runtime_amount_precise, amount_precise
)
select daily.org_id, daily.usage_date, daily.team_id,
       sum(daily.runtime_seconds), sum(daily.runtime_amount_precise), sum(daily.amount_precise)
from rollup_team_region_daily as daily
inner join batch
    on batch.org_id = daily.org_id
    and batch.usage_date = daily.usage_date
group by 1, 2, 3
order by 1, 2
