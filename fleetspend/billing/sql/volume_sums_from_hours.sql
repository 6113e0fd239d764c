-- Ends volume_sums.sql: only the hours (hour_org_ids[i], hour_ats[i]) of each volume of their
-- organization, each found through the usage table's primary key (as
-- machine_sums_from_hours.sql does for machines).
from (
    select hour_rows.*
    from unnest(cast(:hour_org_ids as bigint[]), cast(:hour_ats as timestamptz[]))
        as added (org_id, hour_at)
    join volumes on volumes.org_id = added.org_id
    cross join lateral (
        select * from volume_usage
        where volume_usage.org_id = volumes.org_id
          and volume_usage.volume_id = volumes.volume_id
          and volume_usage.hour_at = added.hour_at
    ) as hour_rows
) as volume_usage
where volume_usage.hour_at >= :from_at
  and volume_usage.hour_at < :until_at
  and volume_usage.org_id = any(:org_ids)
  and volume_usage.gb_hours > 0
group by 1, 2, 3, usage_date
