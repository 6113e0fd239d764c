-- Continues batch.sql: each batch organization's latest hour in the meter rows
-- (rollup_org_latest_hour), read again only when the batch holds a day at or after the day of
-- the hour it has (or it has none): a meter row's last hour lies on the row's own day, so
-- days before it cannot change it. An organization left without meter rows loses its row.
, marked_orgs as (
    select batch.org_id
    from batch
    left join rollup_org_latest_hour as latest on latest.org_id = batch.org_id
    group by batch.org_id, latest.last_hour_at
    having latest.last_hour_at is null
        or max(batch.usage_date) >= cast(latest.last_hour_at at time zone 'UTC' as date)
),

marks as (
    select marked_orgs.org_id, newest.last_hour_at
    from marked_orgs
    cross join lateral (
        select max(daily.last_hour_at) as last_hour_at
        from rollup_usage_daily as daily
        where daily.org_id = marked_orgs.org_id
          and daily.usage_date = (select max(usage_date) from rollup_usage_daily
                                  where org_id = marked_orgs.org_id)
    ) as newest
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
