-- Continues batch.sql: the batch's team rows per team, region (rollup_team_region_daily), summed
-- from the app rows (rollup_app_region_daily, rebuilt before), each app under its team of today.
insert into rollup_team_region_daily (
    org_id, usage_date, team_id, region_code, runtime_seconds, runtime_amount_precise,
    amount_precise
)
select daily.org_id, daily.usage_date, apps.team_id, daily.region_code,
       sum(daily.runtime_seconds), sum(daily.runtime_amount_precise), sum(daily.amount_precise)
from rollup_app_region_daily as daily
inner join apps on apps.org_id = daily.org_id and apps.app_id = daily.app_id
inner join batch
    on batch.org_id = daily.org_id
    and batch.usage_date = daily.usage_date
group by 1, 2, 3, 4
order by 1, 2
