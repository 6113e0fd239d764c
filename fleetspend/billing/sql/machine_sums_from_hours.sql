-- Ends machine_sums.sql: only the hours (hour_org_ids[i], hour_ats[i]) of each machine of
-- their organization, each found through the usage table's primary key (org_id, machine_id,
-- hour_at). Usage has no index by hour, so one hour of 100,000 machines is otherwise found by
-- reading every row of the organization's month (measured at xlarge: see docs/scaling.md).
from (
    select hour_rows.*
    from unnest(cast(:hour_org_ids as bigint[]), cast(:hour_ats as timestamptz[]))
        as added (org_id, hour_at)
    join machines on machines.org_id = added.org_id
    cross join lateral (
        select * from machine_usage
        where machine_usage.org_id = machines.org_id
          and machine_usage.machine_id = machines.machine_id
          and machine_usage.hour_at = added.hour_at
    ) as hour_rows
) as machine_usage
where machine_usage.hour_at >= :from_at
  and machine_usage.hour_at < :until_at
  and machine_usage.org_id = any(:org_ids)
group by 1, 2, 3, 4, 5, usage_date
