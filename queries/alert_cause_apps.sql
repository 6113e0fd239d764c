-- The apps behind an alert: each app of the scope (some teams, some apps, or all when both
-- are null) with its spend over [start_date, end_date), dearest first.
-- Params: org_id; start_date, end_date (exclusive); team_ids, app_ids (bigint[] or null).
-- Returns: app_id, app_name, team_id, team_name, amount_precise, amount_cents.
with app_spend as (
    select
        app_id,
        sum(amount_precise) as amount_precise
    from rollup_app_region_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by app_id
),

final as (
    select
        apps.app_id,
        apps.name as app_name,
        apps.team_id,
        teams.name as team_name,
        app_spend.amount_precise,
        cast(round(app_spend.amount_precise * 100) as bigint) as amount_cents
    from app_spend
    inner join apps on apps.org_id = :org_id and apps.app_id = app_spend.app_id
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
    where (cast(:team_ids as bigint[]) is null
           or apps.team_id = any(cast(:team_ids as bigint[])))
      and (cast(:app_ids as bigint[]) is null
           or apps.app_id = any(cast(:app_ids as bigint[])))
)

select * from final
order by amount_precise desc, app_name
