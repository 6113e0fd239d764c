-- One organization's teams with how many apps and machines (not destroyed) each has.
-- Params: org_id. Returns: team_id, name, apps, running_machines; by name.
-- Machines are counted per app first (hashed), so nothing sorts the organization's machines.
-- They are counted from the partial index of running machines (migration 0021) alone.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with running_per_app as (
    select
        app_id,
        count(*) as running_machines
    from machines
    where org_id = :org_id
      and destroyed_at is null
    group by app_id
),

app_machines as (
    select
        apps.team_id,
        count(*) as apps,
        coalesce(sum(running_per_app.running_machines), 0) as running_machines
    from apps
    left join running_per_app on running_per_app.app_id = apps.app_id
    where apps.org_id = :org_id
    group by apps.team_id
),

final as (
    select
        teams.team_id,
        teams.name,
        coalesce(app_machines.apps, 0) as apps,
        cast(coalesce(app_machines.running_machines, 0) as bigint) as running_machines
    from teams
    left join app_machines on app_machines.team_id = teams.team_id
    where teams.org_id = :org_id
)

select * from final
order by name
