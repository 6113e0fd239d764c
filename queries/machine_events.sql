-- One machine's lifecycle events (start, stop, resize, destroy) in a period, oldest first.
-- Params: org_id, machine_id, start_at, end_at (UTC, end exclusive).
-- Returns: event_at (UTC), kind, preset_code and memory_mb (the new size, for resizes).
select
    event_at,
    kind,
    preset_code,
    memory_mb
from machine_events
where org_id = :org_id
  and machine_id = :machine_id
  and event_at >= :start_at
  and event_at < :end_at
order by event_at, kind
