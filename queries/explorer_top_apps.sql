-- The explorer's default question the short way: spend per app per day or week over
-- [start_date, end_date) with no filter, the biggest :top apps kept and the rest folded into
-- "other": the same rows as explorer_series.sql gives for it, without reading a row per app
-- and day for the apps folded into "other". The ranking reads the monthly rollup for the
-- range's whole months and the daily one for its other days; the kept apps' cells come from
-- their own daily rows; "other" is the organization's spend per period (rollup_org_daily)
-- minus the kept apps' cells, exact in NUMERIC (a period where "other" is exactly zero has
-- no "other" cell).
-- Params: org_id; start_date, end_date (exclusive); grain: 'day' or 'week'; months_from,
-- months_until: the months whose monthly rollup rows lie wholly inside the range
-- (readmodels.whole_months; both equal end_date when there are none), for the ranking;
-- whole_from, whole_until: both end_date (the cells read every day); top.
-- Returns the columns of explorer_series.sql, in its order.
with range_usage as (
    select app_id, amount_precise
    from rollup_app_region_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :months_from and usage_date < :months_until)
    union all
    select app_id, amount_precise
    from rollup_app_region_monthly
    where org_id = :org_id
      and month_date >= :months_from
      and month_date < :months_until
),

app_totals as (
    select app_id, sum(amount_precise) as quantity
    from range_usage
    group by app_id
),

-- the biggest apps over the range (ties by key, in byte order): a top-N sort of the few kept,
-- not a sort of every app
top_series as (
    select
        cast(app_id as text) as series_key,
        app_id,
        quantity,
        row_number() over (
            order by quantity desc, cast(app_id as text) collate "C"
        ) as series_rank
    from (
        select *
        from app_totals
        order by quantity desc, cast(app_id as text) collate "C"
        limit cast(:top as bigint) + 1
    ) as biggest
),

series_count as (
    select count(*) as series_count from app_totals
),

kept_series as (
    select top_series.*
    from top_series
    cross join series_count
    where series_count.series_count <= cast(:top as bigint) + 1
       or top_series.series_rank <= cast(:top as bigint)
),

kept as (
    select
        coalesce(array_agg(app_id), array[]::bigint[]) as app_ids,
        (select series_count from series_count) - count(*) as hidden
    from kept_series
),

-- the range's days with any spend
range_days as materialized (
    select usage_date from include(spend_days) as spend_days
),

kept_apps as (
    select app_id from kept_series
),

-- the kept apps' cells, from their own daily rows
kept_cells as (
    select
        cast(date_trunc(:grain, kept_days.usage_date) as date) as period_start_date,
        cast(kept_days.app_id as text) as series_key,
        sum(kept_days.quantity) as quantity
    from include(kept_app_days) as kept_days
    group by 1, 2
),

other_cells as include(other_cells),

final as (
    select
        'series' as kind,
        cast(null as date) as period_start_date,
        kept_series.series_key,
        apps.name as series_label,
        kept_series.series_rank,
        (select hidden from kept) as hidden,
        kept_series.quantity
    from kept_series
    left join apps on apps.org_id = :org_id and apps.app_id = kept_series.app_id
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
