-- One machine: what it is, where it runs, whose it is, and when it lived.
-- Params: org_id, machine_id.
-- Returns: machine_id, app_id, app_name, team_name, region_code, city, country,
-- price_markup, preset_code, cpu_kind, cpus, memory_mb (its size now), rootfs_gb,
-- created_at, destroyed_at (UTC, null while it exists).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select
    machines.machine_id,
    machines.app_id,
    apps.name as app_name,
    teams.name as team_name,
    machines.region_code,
    regions.city,
    regions.country,
    regions.price_markup,
    machines.preset_code,
    presets.cpu_kind,
    presets.cpus,
    machines.memory_mb,
    machines.rootfs_gb,
    machines.created_at,
    machines.destroyed_at
from machines
inner join apps on apps.org_id = machines.org_id and apps.app_id = machines.app_id
inner join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
inner join regions on regions.region_code = machines.region_code
inner join presets on presets.preset_code = machines.preset_code
where machines.org_id = :org_id
  and machines.machine_id = :machine_id
