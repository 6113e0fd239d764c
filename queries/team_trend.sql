-- One organization's spend per team over time, for the team comparison's trend chart: what
-- queries/explorer_series.sql gives for spend by team with every series kept, read from the
-- per-team rollups alone (a row per team a day, or a month), in a statement small enough to
-- keep one plan.
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO) or 'month';
-- whole_from, whole_until: the months read from the monthly rollup (both end_date for none),
-- as explorer_series.sql takes them (ExplorerQuery.params).
-- Returns the rows of explorer_series.sql: first 'series', one per team with spend rows in the
-- range, biggest first (series_key the team id as text, series_label its name, 'None' where
-- the reader may not see it, series_rank, hidden 0, quantity its total); then 'cell', by period
-- and within it by series key in byte order: period_start_date, series_key, quantity
-- (unrounded dollars, NUMERIC).
-- Plan: generic (looked up by key: one plan serves every organization and range, see db.py).
with team_usage as (
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date) as period_start_date,
        team_id,
        amount_precise
    from rollup_team_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select month_date, team_id, amount_precise
    from rollup_team_monthly
    where org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

cells as (
    select
        period_start_date,
        cast(team_id as text) as series_key,
        sum(amount_precise) as quantity
    from team_usage
    group by period_start_date, team_id
),

-- every team over the range, biggest first (ties by key, in byte order)
ranked_series as (
    select
        series_key,
        sum(quantity) as quantity,
        row_number() over (order by sum(quantity) desc, series_key collate "C") as series_rank
    from cells
    group by series_key
),

final as (
    select
        'series' as kind,
        cast(null as date) as period_start_date,
        ranked_series.series_key,
        coalesce(teams.name, 'None') as series_label,
        ranked_series.series_rank,
        cast(0 as bigint) as hidden,
        ranked_series.quantity
    from ranked_series
    -- teams are billing data: members read usage without team names
    left join teams
        on teams.org_id = :org_id and cast(teams.team_id as text) = ranked_series.series_key
    union all
    select 'cell', period_start_date, series_key, null, null, null, quantity
    from cells
)

select kind, period_start_date, series_key, series_label, series_rank, hidden, quantity
from final
order by kind desc, series_rank, period_start_date, series_key collate "C"
