-- Continues scoped_machines.sql: every event of the machines in scope, in order, with the
-- state and size after it (ordered_events).
, events as (
    select machine_events.org_id, machine_events.machine_id, machine_events.event_at,
           machine_events.kind, machine_events.preset_code, machine_events.memory_mb,
           case machine_events.kind
               when 'stop' then 1 when 'resize' then 2 when 'start' then 3 else 4
           end as kind_rank
    from machine_events
    join scoped_machines using (org_id, machine_id)
),

-- running counts of the events that set the power state and of resizes: each count opens a
-- group whose first event tells the state (or size) until the next group begins
counted as (
    select events.*,
           count(*) filter (where kind in ('start', 'stop', 'destroy')) over machine_order
               as power_group,
           count(*) filter (where kind = 'resize') over machine_order as size_group,
           bool_or(kind = 'destroy') over (
               partition by org_id, machine_id order by event_at, kind_rank
               rows between unbounded preceding and 1 preceding) as is_after_destroy
    from events
    window machine_order as (
        partition by org_id, machine_id order by event_at, kind_rank
        rows between unbounded preceding and current row)
),

stated as (
    select counted.*,
           case when power_group = 0 then 'stop'
                else first_value(kind) over (
                    partition by org_id, machine_id, power_group order by event_at, kind_rank)
           end as power_after,
           first_value(preset_code) over (
               partition by org_id, machine_id, size_group order by event_at, kind_rank)
               as resized_preset_code,
           first_value(memory_mb) over (
               partition by org_id, machine_id, size_group order by event_at, kind_rank)
               as resized_memory_mb
    from counted
),

ordered_events as (
    select stated.org_id, stated.machine_id, stated.event_at, stated.kind,
           stated.is_after_destroy,
           stated.power_after = 'start' as is_running_after,
           coalesce(lag(stated.power_after) over machine_order, 'stop') = 'start'
               as is_running_before,
           case when stated.size_group = 0 then scoped_machines.preset_code
                else stated.resized_preset_code end as preset_code,
           case when stated.size_group = 0 then scoped_machines.memory_mb
                else stated.resized_memory_mb end as memory_mb,
           lead(stated.event_at) over machine_order as next_event_at,
           scoped_machines.destroyed_at
    from stated
    join scoped_machines using (org_id, machine_id)
    window machine_order as (
        partition by stated.org_id, stated.machine_id order by stated.event_at, stated.kind_rank)
)
