-- One machine's metered usage, hour by hour, in a period (its own raw rows: one machine only).
-- Params: org_id, machine_id, start_at, end_at (UTC, end exclusive).
-- Returns: hour_at (UTC), preset_code, memory_mb, runtime_seconds, stopped_rootfs_gb_seconds,
-- egress_internet_gb, egress_private_gb, dedicated_ipv4_seconds.
select
    hour_at,
    preset_code,
    memory_mb,
    runtime_seconds,
    stopped_rootfs_gb_seconds,
    egress_internet_gb,
    egress_private_gb,
    dedicated_ipv4_seconds
from machine_usage
where org_id = :org_id
  and machine_id = :machine_id
  and hour_at >= :start_at
  and hour_at < :end_at
order by hour_at, preset_code, memory_mb
