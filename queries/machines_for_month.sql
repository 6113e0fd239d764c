-- One organization's machines that ran in a calendar month, with what each cost, dearest first.
-- Params: org_id; month_date (the month's first day); app_id (null for every app);
-- row_limit (null keeps all).
-- Returns: machine_id, app_id, app_name, region_code, preset_code, memory_mb (their size
-- now), created_at, destroyed_at, runtime_seconds, egress_gb, amount_precise, amount_cents.
with machine_month as (
    select
        resource_id as machine_id,
        sum(consumed_quantity) filter (where product = 'machine_runtime') as runtime_seconds,
        sum(consumed_quantity) filter (where product like 'egress%') as egress_gb,
        sum(amount_precise) as amount_precise
    from rollup_resource_monthly
    where org_id = :org_id
      and month_date = :month_date
      and resource_kind = 'machine'
      and (cast(:app_id as bigint) is null or app_id = :app_id)
    group by resource_id
),

final as (
    select
        machine_month.machine_id,
        machines.app_id,
        apps.name as app_name,
        machines.region_code,
        machines.preset_code,
        machines.memory_mb,
        machines.created_at,
        machines.destroyed_at,
        coalesce(machine_month.runtime_seconds, 0) as runtime_seconds,
        coalesce(machine_month.egress_gb, 0) as egress_gb,
        machine_month.amount_precise,
        cast(round(machine_month.amount_precise * 100) as bigint) as amount_cents
    from machine_month
    inner join machines
        on machines.org_id = :org_id
        and machines.machine_id = machine_month.machine_id
    inner join apps on apps.org_id = machines.org_id and apps.app_id = machines.app_id
)

select * from final
order by amount_precise desc, machine_id
limit :row_limit
