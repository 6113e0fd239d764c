-- Creates staged_machine_usage_anchors: per machine of staged_machine_usage, the hours it
-- has there (its span, widened by tolerance), its facts, and the last run started at or before
-- the span (one index probe), which may still be going when the span begins and anchors the
-- size timeline (else creation does). Analyzed before it is read: with estimates from a CTE
-- instead, the plan of a day of 10,000 machines nests loops over the staged rows (minutes
-- instead of seconds).
create temporary table staged_machine_usage_anchors on commit drop as
with spans as (
    select org_id, machine_id,
           min(hour_at) - :tolerance as first_at,
           max(hour_at) + interval '1 hour' + :tolerance as end_at
    from staged_machine_usage
    group by org_id, machine_id
)

select spans.org_id, spans.machine_id, spans.first_at, spans.end_at,
       machines.rootfs_gb, machines.created_at, machines.destroyed_at,
       last_run.started_at as run_started_at, last_run.ended_at as run_ended_at,
       last_run.preset_code as run_preset_code, last_run.memory_mb as run_memory_mb,
       coalesce(last_run.started_at, machines.created_at) as anchor_at,
       coalesce(last_run.preset_code, machines.preset_code) as anchor_preset_code,
       coalesce(last_run.memory_mb, machines.memory_mb) as anchor_memory_mb
from spans
join machines using (org_id, machine_id)
left join lateral (
    select machine_runs.started_at, machine_runs.ended_at, machine_runs.preset_code,
           machine_runs.memory_mb
    from machine_runs
    where machine_runs.org_id = spans.org_id
      and machine_runs.machine_id = spans.machine_id
      and machine_runs.started_at <= spans.first_at
    order by machine_runs.started_at desc
    limit 1
) as last_run on true
