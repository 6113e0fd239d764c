-- One machine's runs (start to stop, resize or destroy) that overlap a period, oldest first.
-- Params: org_id, machine_id, start_at, end_at (UTC, end exclusive).
-- Returns: started_at, ended_at (null while running), preset_code, memory_mb,
-- seconds_in_period (the run's seconds inside the period).
select
    started_at,
    ended_at,
    preset_code,
    memory_mb,
    cast(extract(epoch from least(coalesce(ended_at, :end_at), :end_at)
                           - greatest(started_at, :start_at)) as bigint) as seconds_in_period
from machine_runs
where org_id = :org_id
  and machine_id = :machine_id
  and started_at < :end_at
  and (ended_at is null or ended_at > :start_at)
order by started_at
