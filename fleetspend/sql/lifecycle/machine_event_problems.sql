-- Continues ordered_machine_events.sql: the events that make no sense where they stand (after a
-- destroy, a start while running, a stop while stopped): org_id, machine_id, event_at, kind,
-- problem.
select org_id, machine_id, event_at, kind,
       case
           when is_after_destroy then 'comes after the machine was destroyed'
           when destroyed_at is not null and event_at > destroyed_at
               then 'comes after the machine was destroyed at '
                    || to_char(destroyed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           when kind = 'start' and is_running_before then 'starts a machine already running'
           when kind = 'stop' and not is_running_before then 'stops a machine already stopped'
       end as problem
from ordered_events
where is_after_destroy
   or (destroyed_at is not null and event_at > destroyed_at)
   or (kind = 'start' and is_running_before)
   or (kind = 'stop' and not is_running_before)
order by org_id, machine_id, event_at
