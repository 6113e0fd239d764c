-- One organization's spend and machine-hours per team, region and VM size, and per app, in a
-- period and in the period of equal length just before it: what the team comparison ranks
-- (teams, their mixes, the apps whose spend moved most), read from the per-team rollups and
-- the per-app ones, a few thousand rows however many apps. queries/team_usage_mix.sql gives
-- the rows of single apps by region and VM size.
-- Params: as queries/team_usage_mix.sql (org_id, start_date, days, months).
-- Returns two kinds of rows (kind): 'team', one per period, team, region and VM size (app_id
-- and app_name null), then 'app', one per period and app (region_code and preset_key null);
-- with is_current, team_id, team_name, app_id, app_name, region_code, preset_key ('no-size'
-- for usage without a machine size: volumes), amount_precise (NUMERIC, unrounded dollars,
-- every product), machine_seconds (machine runtime).
with team_usage as (
    select usage_date >= :start_date as is_current, team_id, region_code, preset_code,
           runtime_seconds, amount_precise
    from rollup_team_region_size_daily
    where org_id = :org_id and usage_date = any(cast(:days as date[]))
    union all
    select month_date >= :start_date, team_id, region_code, preset_code, runtime_seconds,
           amount_precise
    from rollup_team_region_size_monthly
    where org_id = :org_id and month_date = any(cast(:months as date[]))
),

app_usage as (
    select usage_date >= :start_date as is_current, app_id, runtime_seconds, amount_precise
    from rollup_app_region_daily
    where org_id = :org_id and usage_date = any(cast(:days as date[]))
    union all
    select month_date >= :start_date, app_id, runtime_seconds, amount_precise
    from rollup_app_region_monthly
    where org_id = :org_id and month_date = any(cast(:months as date[]))
),

team_rows as (
    select
        is_current,
        team_id,
        region_code,
        dimension_key('preset') as preset_key,
        sum(amount_precise) as amount_precise,
        coalesce(sum(runtime_seconds), 0) as machine_seconds
    from team_usage
    group by 1, 2, 3, 4
),

app_rows as (
    select
        is_current,
        app_id,
        sum(amount_precise) as amount_precise,
        coalesce(sum(runtime_seconds), 0) as machine_seconds
    from app_usage
    group by 1, 2
),

final as (
    select
        'team' as kind,
        team_rows.is_current,
        team_rows.team_id,
        teams.name as team_name,
        cast(null as bigint) as app_id,
        cast(null as text) as app_name,
        team_rows.region_code,
        team_rows.preset_key,
        team_rows.amount_precise,
        team_rows.machine_seconds
    from team_rows
    -- teams are billing data: members read usage without team names
    left join teams on teams.org_id = :org_id and teams.team_id = team_rows.team_id
    union all
    select
        'app',
        app_rows.is_current,
        apps.team_id,
        null,
        apps.app_id,
        apps.name,
        null,
        null,
        app_rows.amount_precise,
        app_rows.machine_seconds
    from app_rows
    inner join apps on apps.org_id = :org_id and apps.app_id = app_rows.app_id
)

select
    kind, is_current, team_id, team_name, app_id, app_name, region_code, preset_key,
    amount_precise, machine_seconds
from final
order by kind desc, is_current desc, team_id, app_id, region_code, preset_key
