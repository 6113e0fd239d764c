-- One budget scope's spend per day over [start_date, end_date): the whole organization when
-- team_ids and app_ids are both null (from the per-org daily rollup the spend overview
-- reads), else the apps of some teams or some apps (from the per-app daily rollup the
-- explorer and the team comparison read).
-- Params: org_id; start_date, end_date (exclusive); team_ids, app_ids (bigint[] or null).
-- Returns: usage_date, amount_precise (NUMERIC); days without spend are absent.
with organization_days as (
    select
        usage_date,
        sum(amount_precise) as amount_precise
    from rollup_org_daily
    where cast(:team_ids as bigint[]) is null
      and cast(:app_ids as bigint[]) is null
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by usage_date
),

scoped_days as (
    select
        rollup_app_region_daily.usage_date,
        sum(rollup_app_region_daily.amount_precise) as amount_precise
    from rollup_app_region_daily
    inner join apps
        on apps.org_id = rollup_app_region_daily.org_id
        and apps.app_id = rollup_app_region_daily.app_id
    where (cast(:team_ids as bigint[]) is not null or cast(:app_ids as bigint[]) is not null)
      and rollup_app_region_daily.org_id = :org_id
      and rollup_app_region_daily.usage_date >= :start_date
      and rollup_app_region_daily.usage_date < :end_date
      and (cast(:team_ids as bigint[]) is null
           or apps.team_id = any(cast(:team_ids as bigint[])))
      and (cast(:app_ids as bigint[]) is null
           or apps.app_id = any(cast(:app_ids as bigint[])))
    group by rollup_app_region_daily.usage_date
),

final as (
    select * from organization_days
    union all
    select * from scoped_days
)

select * from final
order by usage_date
