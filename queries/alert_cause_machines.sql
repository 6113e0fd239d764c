-- The machines behind an alert: the dearest row_limit machines of the scope's apps (some
-- teams, some apps, or all when both are null) over [start_date, end_date).
-- Params: org_id; start_date, end_date (exclusive); team_ids, app_ids (bigint[] or null);
-- row_limit (null: all).
-- Returns: machine_id, app_id, app_name, region_code, days (with spend), amount_cents.
with machine_spend as (
    select
        rollup_resource_daily.resource_id as machine_id,
        rollup_resource_daily.app_id,
        min(rollup_resource_daily.region_code) as region_code,
        count(distinct rollup_resource_daily.usage_date) as days,
        sum(rollup_resource_daily.amount_precise) as amount_precise
    from rollup_resource_daily
    inner join apps
        on apps.org_id = rollup_resource_daily.org_id
        and apps.app_id = rollup_resource_daily.app_id
    where rollup_resource_daily.org_id = :org_id
      and rollup_resource_daily.resource_kind = 'machine'
      and rollup_resource_daily.usage_date >= :start_date
      and rollup_resource_daily.usage_date < :end_date
      and (cast(:team_ids as bigint[]) is null
           or apps.team_id = any(cast(:team_ids as bigint[])))
      and (cast(:app_ids as bigint[]) is null
           or apps.app_id = any(cast(:app_ids as bigint[])))
    group by rollup_resource_daily.resource_id, rollup_resource_daily.app_id
),

final as (
    select
        machine_spend.machine_id,
        machine_spend.app_id,
        apps.name as app_name,
        machine_spend.region_code,
        machine_spend.days,
        cast(round(machine_spend.amount_precise * 100) as bigint) as amount_cents
    from machine_spend
    inner join apps on apps.org_id = :org_id and apps.app_id = machine_spend.app_id
)

select * from final
order by amount_cents desc, machine_id
limit :row_limit
