-- One organization's spend in one calendar month by team, app and VM size, for a treemap.
-- Params: org_id; month_date (the month's first day; a month in progress gives its spend
-- so far). Returns: team_id, team_name, app_id, app_name, preset_key ('no-size' for usage
-- without a machine size), amount_precise, amount_cents (rounded once, half up);
-- biggest first. Read from the per-app, region and VM size rollup (a third of the meter rows:
-- they add up the same, every product included).
with app_spend as (
    select
        app_id,
        dimension_key('preset') as preset_key,
        sum(amount_precise) as amount_precise
    from rollup_app_region_size_monthly
    where org_id = :org_id
      and month_date = :month_date
    group by 1, 2
),

final as (
    select
        apps.team_id,
        teams.name as team_name,
        apps.app_id,
        apps.name as app_name,
        app_spend.preset_key,
        app_spend.amount_precise,
        cast(round(app_spend.amount_precise * 100) as bigint) as amount_cents
    from app_spend
    inner join apps on apps.org_id = :org_id and apps.app_id = app_spend.app_id
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
)

select * from final
order by amount_precise desc, app_id, preset_key
