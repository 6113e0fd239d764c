-- One organization's spend and machine-hours by team, app, region and VM size, in a period
-- and in the period of equal length just before it (the team comparison's rows of single
-- apps; queries/team_usage_summary.sql gives the teams and every app's totals).
-- Params: org_id; start_date (the current period's first day: rows before it are the
-- previous period's); days and months (date[]): the days of both periods read from the daily
-- rollup and the months (first days) read from the monthly one, the months lying wholly
-- inside a period (fleetspend.reads.teams.Period.params); app_ids (bigint[]): only these apps
-- (null: every app; the comparison reads the apps it explains or shows).
-- Returns: is_current, team_id, team_name, app_id, app_name, region_code, preset_key
-- ('no-size' for usage without a machine size: volumes), amount_precise (NUMERIC, unrounded
-- dollars, every product), machine_seconds (machine runtime).
with range_usage as (
    select usage_date >= :start_date as is_current, app_id, region_code, preset_code,
           runtime_seconds, amount_precise
    from rollup_app_region_size_daily
    where org_id = :org_id and usage_date = any(cast(:days as date[]))
      and (cast(:app_ids as bigint[]) is null or app_id = any(cast(:app_ids as bigint[])))
    union all
    select month_date >= :start_date, app_id, region_code, preset_code, runtime_seconds,
           amount_precise
    from rollup_app_region_size_monthly
    where org_id = :org_id and month_date = any(cast(:months as date[]))
      and (cast(:app_ids as bigint[]) is null or app_id = any(cast(:app_ids as bigint[])))
),

period_usage as (
    select
        is_current,
        app_id,
        region_code,
        dimension_key('preset') as preset_key,
        sum(amount_precise) as amount_precise,
        sum(runtime_seconds) as machine_seconds
    from range_usage
    group by 1, 2, 3, 4
),

final as (
    select
        period_usage.is_current,
        apps.team_id,
        teams.name as team_name,
        apps.app_id,
        apps.name as app_name,
        period_usage.region_code,
        period_usage.preset_key,
        period_usage.amount_precise,
        coalesce(period_usage.machine_seconds, 0) as machine_seconds
    from period_usage
    inner join apps on apps.org_id = :org_id and apps.app_id = period_usage.app_id
    -- teams are billing data: members read usage without team names
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
)

select * from final
order by is_current desc, team_id, app_id, region_code, preset_key
