-- Continues batch.sql: each batch organization's latest hour in the meter rows
-- (rollup_org_latest_hour), read again only when the batch holds a day at or after the day of
-- the hour it has (or it has none): a meter row's last hour lies on the row's own day, so
-- days before it cannot change it. The latest day comes from the per-org rollup (a few rows a
-- day, so the rebuild, which runs this before the rollups' keys are built again, reads the
-- meter rows once, not once per organization). An organization left without meter rows loses
-- its row.
, marked_orgs as (
    select batch.org_id
    from batch
    left join rollup_org_latest_hour as latest on latest.org_id = batch.org_id
    group by batch.org_id, latest.last_hour_at
    having latest.last_hour_at is null
        or max(batch.usage_date) >= cast(latest.last_hour_at at time zone 'UTC' as date)
),

latest_days as (
    select org_daily.org_id, max(org_daily.usage_date) as usage_date
    from rollup_org_daily as org_daily
    inner join marked_orgs on marked_orgs.org_id = org_daily.org_id
    group by org_daily.org_id
),

marks as (
    select marked_orgs.org_id, max(daily.last_hour_at) as last_hour_at
    from marked_orgs
    left join latest_days on latest_days.org_id = marked_orgs.org_id
    left join rollup_usage_daily as daily
        on daily.org_id = latest_days.org_id
        and daily.usage_date = latest_days.usage_date
    group by marked_orgs.org_id
),

emptied as (
    delete from rollup_org_latest_hour as latest
    using marks
    where latest.org_id = marks.org_id
      and marks.last_hour_at is null
)

insert into rollup_org_latest_hour (org_id, last_hour_at)
select org_id, last_hour_at
from marks
where last_hour_at is not null
on conflict (org_id) do update set last_hour_at = excluded.last_hour_at
