-- One organization's teams with how many apps and machines (not destroyed) each has.
-- Params: org_id. Returns: team_id, name, apps, running_machines; by name.
with app_machines as (
    select
        apps.team_id,
        count(distinct apps.app_id) as apps,
        count(machines.machine_id) filter (where machines.destroyed_at is null)
            as running_machines
    from apps
    left join machines
        on machines.org_id = apps.org_id
        and machines.app_id = apps.app_id
    where apps.org_id = :org_id
    group by apps.team_id
),

final as (
    select
        teams.team_id,
        teams.name,
        coalesce(app_machines.apps, 0) as apps,
        coalesce(app_machines.running_machines, 0) as running_machines
    from teams
    left join app_machines on app_machines.team_id = teams.team_id
    where teams.org_id = :org_id
)

select * from final
order by name
