-- The explorer's team x region question the short way: spend per team and region (either one
-- first) per day or week over [start_date, end_date) with no filter, the biggest :top pairs
-- kept and the rest folded into "other": the same rows as explorer_series.sql gives for it,
-- without summing a row per pair and day for the pairs folded into "other" (two hundred pairs
-- a day for the biggest organization, eight of them kept). The ranking reads the monthly
-- per-team-and-region rollup for the range's whole months and the daily one for its other
-- days; the kept pairs' cells come from their own daily rows; "other" is the organization's
-- spend per period (rollup_org_daily) minus the kept pairs' cells, exact in NUMERIC (a period
-- where "other" is exactly zero has no "other" cell), as queries/explorer_top_apps.sql does.
-- Params: org_id; start_date, end_date (exclusive); grain: 'day' or 'week'; dimension_1,
-- dimension_2: 'team' and 'region', in either order; months_from, months_until: the months
-- whose monthly rollup rows lie wholly inside the range (readmodels.whole_months; both equal
-- end_date when there are none), for the ranking; top.
-- Returns the columns of explorer_series.sql, in its order.
with range_usage as (
    select team_id, region_code, amount_precise
    from rollup_team_region_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :months_from and usage_date < :months_until)
    union all
    select team_id, region_code, amount_precise
    from rollup_team_region_monthly
    where org_id = :org_id
      and month_date >= :months_from
      and month_date < :months_until
),

-- every pair's total over the range, as a dimension row (the columns the registry's
-- expressions read; null where the rollup has none)
dimension_rows as (
    select
        cast(null as bigint) as app_id,
        team_id,
        region_code,
        cast(null as text) as continent,
        cast(null as text) as preset_code,
        cast(null as text) as product,
        sum(amount_precise) as quantity
    from range_usage
    group by team_id, region_code
),

-- each pair's series key as explorer_series.sql spells it, biggest first (ties by key, in
-- byte order)
ranked_series as (
    select
        team_id,
        region_code,
        key_1,
        key_2,
        quantity,
        coalesce(key_1, 'None') || '|' || coalesce(key_2, 'None') as series_key,
        row_number() over (
            order by quantity desc, coalesce(key_1, 'None') || '|' || coalesce(key_2, 'None')
                collate "C"
        ) as series_rank,
        count(*) over () as series_count
    from (
        select
            dimension_rows.*,
            dimension_key(:dimension_1) as key_1,
            dimension_key(:dimension_2) as key_2
        from dimension_rows
    ) as keyed
),

kept_series as materialized (
    select *
    from ranked_series
    where series_count <= cast(:top as bigint) + 1
       or series_rank <= cast(:top as bigint)
),

kept as (
    select (select count(*) from ranked_series) - (select count(*) from kept_series) as hidden
),

-- the kept pairs' cells, from their own daily rows: a hashed lookup of the few kept pairs
-- per row, no sum for the rows of the pairs folded into "other"
kept_cells as (
    select
        cast(date_trunc(:grain, cast(daily.usage_date as timestamp)) as date)
            as period_start_date,
        kept_series.series_key,
        sum(daily.amount_precise) as quantity
    from rollup_team_region_daily as daily
    inner join kept_series
        on kept_series.team_id = daily.team_id
        and kept_series.region_code = daily.region_code
    where daily.org_id = :org_id
      and daily.usage_date >= :start_date
      and daily.usage_date < :end_date
    group by 1, 2
),

other_cells as include(other_cells),

-- the kept pairs' labels, looked up for them alone (teams are billing data: members read
-- usage without team names)
pair_labels as (
    select * from dimension_labels('team') as team_labels
    union all
    select * from dimension_labels('region') as region_labels
),

labels as (
    select
        kept_series.series_key,
        kept_series.series_rank,
        kept_series.quantity,
        coalesce(label_1.label, 'None') || ' · ' || coalesce(label_2.label, 'None')
            as series_label
    from kept_series
    left join pair_labels as label_1
        on label_1.dimension = :dimension_1 and label_1.key = kept_series.key_1
    left join pair_labels as label_2
        on label_2.dimension = :dimension_2 and label_2.key = kept_series.key_2
),

final as (
    select
        'series' as kind,
        cast(null as date) as period_start_date,
        labels.series_key,
        labels.series_label,
        labels.series_rank,
        (select hidden from kept) as hidden,
        labels.quantity
    from labels
    union all
    select 'cell', period_start_date, series_key, null, null, null, quantity
    from kept_cells
    union all
    select 'cell', period_start_date, series_key, null, null, null, quantity
    from other_cells
)

select kind, period_start_date, series_key, series_label, series_rank, hidden, quantity
from final
order by kind desc, series_rank, period_start_date, series_key = '__other__',
    series_key collate "C"
