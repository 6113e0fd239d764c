-- Every organization the caller can see, with its machine counts.
-- Returns: org_id, slug, name, machines (ever created), running_machines (not destroyed).
with machine_counts as (
    select
        org_id,
        count(*) as machines,
        count(*) filter (where destroyed_at is null) as running_machines
    from machines
    group by org_id
),

final as (
    select
        organizations.org_id,
        organizations.slug,
        organizations.name,
        coalesce(machine_counts.machines, 0) as machines,
        coalesce(machine_counts.running_machines, 0) as running_machines
    from organizations
    left join machine_counts on machine_counts.org_id = organizations.org_id
)

select * from final
order by machines desc, slug
