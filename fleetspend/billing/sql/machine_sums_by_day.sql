-- Continues machine_sums.sql per UTC day (the rollups), with the last hour each meter was used.
       cast(machine_usage.hour_at at time zone 'UTC' as date) as usage_date,
       max(machine_usage.hour_at) filter (where machine_usage.runtime_seconds > 0)
           as runtime_last_at,
       max(machine_usage.hour_at) filter (where machine_usage.stopped_rootfs_gb_seconds > 0)
           as rootfs_last_at,
       max(machine_usage.hour_at) filter (where machine_usage.dedicated_ipv4_seconds > 0)
           as ipv4_last_at,
       max(machine_usage.hour_at) filter (where machine_usage.egress_internet_gb > 0)
           as egress_internet_last_at,
       max(machine_usage.hour_at) filter (where machine_usage.egress_private_gb > 0)
           as egress_private_last_at
