-- The hours to correct of the open dispute's machine (org slug, start to end): the machine
-- with the most runtime in those days; each hour with its usage and org slug.
with org as (
    select org_id, slug from organizations where slug = :slug
), busiest as (
    select machine_usage.machine_id
    from machine_usage
    join org using (org_id)
    where machine_usage.hour_at >= :start and machine_usage.hour_at < :end
    group by machine_usage.machine_id
    order by sum(machine_usage.runtime_seconds) desc, machine_usage.machine_id
    limit 1
)
select org.slug, machine_usage.machine_id, machine_usage.hour_at, machine_usage.preset_code,
       machine_usage.memory_mb, machine_usage.stopped_rootfs_gb_seconds,
       machine_usage.egress_internet_gb, machine_usage.egress_private_gb,
       machine_usage.dedicated_ipv4_seconds
from machine_usage
join org using (org_id)
join busiest using (machine_id)
where machine_usage.hour_at >= :start and machine_usage.hour_at < :end
  and machine_usage.runtime_seconds > 0
order by machine_usage.hour_at, machine_usage.preset_code, machine_usage.memory_mb
