-- Continues ordered_machine_events.sql: the runs the ordered events make, written to
-- machine_runs (a run still going has no end; empty runs are left out).
, runs as (
    select org_id, machine_id, event_at as started_at,
           coalesce(next_event_at, destroyed_at) as ended_at,
           preset_code, memory_mb
    from ordered_events
    where is_running_after
      and (kind = 'start' or (kind = 'resize' and is_running_before))
)

insert into machine_runs (org_id, machine_id, started_at, ended_at, preset_code, memory_mb)
select org_id, machine_id, started_at, ended_at, preset_code, memory_mb
from runs
where ended_at is null or ended_at > started_at
