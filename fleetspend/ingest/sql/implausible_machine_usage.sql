-- The rows of staged_machine_usage that cannot have happened, with what shows it: hours after
-- current_hour, runtime at a size no run had, more runtime than the runs give, time at a size
-- the machine did not have, stopped time over the root filesystem's hour (hour_seconds), more
-- time in an hour than the machine existed (beyond tolerance_seconds). Runs are widened by
-- tolerance at each edge. staged_machine_usage_anchors (machine_usage_anchors.sql) and the
-- staged table are read directly (not through CTEs) so their statistics reach the plan.
with
-- every run overlapping a span: the anchor run if still going, and the runs begun inside it
runs as (
    select org_id, machine_id, run_started_at as started_at,
           coalesce(run_ended_at, 'infinity') as ended_at,
           run_preset_code as preset_code, run_memory_mb as memory_mb
    from staged_machine_usage_anchors as anchors
    where coalesce(run_ended_at, 'infinity') > first_at
    union all
    select machine_runs.org_id, machine_runs.machine_id, machine_runs.started_at,
           coalesce(machine_runs.ended_at, 'infinity'), machine_runs.preset_code,
           machine_runs.memory_mb
    from staged_machine_usage_anchors as anchors
    join machine_runs using (org_id, machine_id)
    where machine_runs.started_at > anchors.first_at
      and machine_runs.started_at < anchors.end_at
),

-- the size timeline from each anchor to the end of its span: the anchor's size, then resizes
size_changes as (
    select org_id, machine_id, anchor_at as changed_at, 0 as change_rank,
           anchor_preset_code as preset_code, anchor_memory_mb as memory_mb
    from staged_machine_usage_anchors as anchors
    union all
    select machine_events.org_id, machine_events.machine_id, machine_events.event_at, 1,
           machine_events.preset_code, machine_events.memory_mb
    from staged_machine_usage_anchors as anchors
    join machine_events using (org_id, machine_id)
    where machine_events.event_at >= anchors.anchor_at
      and machine_events.event_at < anchors.end_at
      and machine_events.kind = 'resize'
),

sizes as (
    select org_id, machine_id, preset_code, memory_mb, changed_at as from_at,
           coalesce(lead(changed_at) over (
               partition by org_id, machine_id order by changed_at, change_rank),
               'infinity') as until_at
    from size_changes
),

-- per row with runtime: the seconds runs of its size overlap its hour (each run widened by
-- the tolerance at both edges, clipped to the hour), and the sizes that ran in the hour
row_runs as (
    select staged.line,
           coalesce(sum(extract(epoch from
               least(runs.ended_at + :tolerance, staged.hour_at + interval '1 hour')
               - greatest(runs.started_at - :tolerance, staged.hour_at)))
               filter (where runs.preset_code = staged.preset_code
                         and runs.memory_mb = staged.memory_mb), 0) as size_run_seconds,
           bool_or(runs.preset_code = staged.preset_code
                   and runs.memory_mb = staged.memory_mb) as ran_at_size,
           array_agg(distinct runs.preset_code || ' with ' || runs.memory_mb || ' MB')
               filter (where runs.started_at is not null) as run_sizes
    from staged_machine_usage as staged
    left join runs
      on runs.org_id = staged.org_id and runs.machine_id = staged.machine_id
     and runs.started_at - :tolerance < staged.hour_at + interval '1 hour'
     and runs.ended_at + :tolerance > staged.hour_at
    where staged.runtime_seconds > 0
    group by staged.line
),

-- per row without runtime: whether the machine had its size at some moment of the hour
row_sizes as (
    select staged.line,
           bool_or(sizes.preset_code = staged.preset_code
                   and sizes.memory_mb = staged.memory_mb) as had_size,
           array_agg(distinct sizes.preset_code || ' with ' || sizes.memory_mb || ' MB')
               as had_sizes
    from staged_machine_usage as staged
    join sizes
      on sizes.org_id = staged.org_id and sizes.machine_id = staged.machine_id
     and sizes.from_at - :tolerance < staged.hour_at + interval '1 hour'
     and sizes.until_at + :tolerance > staged.hour_at
    where staged.runtime_seconds = 0
    group by staged.line
),

-- every row with its machine-hour's totals over all its rows (runtime plus stopped time,
-- against the seconds the machine existed in the hour); window functions, not a join back
hour_rows as (
    select staged.line, staged.org_id, staged.machine_id, staged.hour_at,
           staged.preset_code, staged.memory_mb, staged.runtime_seconds,
           staged.stopped_rootfs_gb_seconds, anchors.rootfs_gb,
           sum(staged.runtime_seconds) over machine_hour as hour_runtime_seconds,
           sum(staged.stopped_rootfs_gb_seconds) over machine_hour / anchors.rootfs_gb
               as hour_stopped_seconds,
           bool_or(staged.stopped_rootfs_gb_seconds
                   > anchors.rootfs_gb * cast(:hour_seconds as integer))
               over machine_hour as has_row_over_rootfs,
           array_agg(staged.line) over machine_hour as hour_lines,
           extract(epoch from
               least(coalesce(anchors.destroyed_at, 'infinity'),
                     staged.hour_at + interval '1 hour')
               - greatest(anchors.created_at, staged.hour_at)) as hour_existed_seconds
    from staged_machine_usage as staged
    join staged_machine_usage_anchors as anchors using (org_id, machine_id)
    window machine_hour as (
        partition by staged.org_id, staged.machine_id, staged.hour_at order by staged.line
        rows between unbounded preceding and unbounded following)
),

checked as (
    select hour_rows.*,
           hour_rows.hour_at > :current_hour as is_future,
           row_runs.size_run_seconds, row_runs.ran_at_size, row_runs.run_sizes,
           row_sizes.had_size, row_sizes.had_sizes,
           hour_rows.line = hour_rows.hour_lines[array_upper(hour_rows.hour_lines, 1)]
               and not hour_rows.has_row_over_rootfs
               and hour_rows.hour_runtime_seconds + hour_rows.hour_stopped_seconds
                   > hour_rows.hour_existed_seconds + cast(:tolerance_seconds as integer)
                   as is_hour_over
    from hour_rows
    left join row_runs using (line)
    left join row_sizes using (line)
)

select checked.*,
       case when checked.runtime_seconds > 0 and checked.run_sizes is null
            then exists (select from machine_runs
                         where machine_runs.org_id = checked.org_id
                           and machine_runs.machine_id = checked.machine_id)
       end as has_ever_run
from checked
where is_future
   or (runtime_seconds > 0 and (run_sizes is null or not ran_at_size
                                or runtime_seconds > size_run_seconds))
   or (runtime_seconds = 0 and not had_size)
   or stopped_rootfs_gb_seconds > rootfs_gb * cast(:hour_seconds as integer)
   or is_hour_over
order by line
