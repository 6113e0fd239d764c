-- The previous period of the explorer's default question the short way: each kept app's total
-- over [start_date, end_date) and "other" as the organization's total minus theirs, exact in
-- NUMERIC: the totals explorer_series.sql gives for every app folded the same way, without
-- reading a row per app and day for the apps folded into "other".
-- Params: org_id; start_date, end_date (exclusive); whole_from, whole_until: the months whose
-- monthly rollup rows lie wholly inside the range (readmodels.whole_months; both equal
-- end_date when there are none); app_ids: the apps the view keeps.
-- Returns: kind ('series'), series_key (the app_id as text, '__other__'), quantity: a row per
-- kept app with rows in the range, and "other" unless it is exactly zero.
with kept_apps as materialized (
    select distinct unnest(cast(:app_ids as bigint[])) as app_id
),

-- the range's days outside its whole months with any spend
range_days as materialized (
    select usage_date from include(spend_days) as spend_days
),

-- the kept apps' rows, looked up by key: a day (or a whole month) and an app at a time
kept_usage as (
    select kept_days.app_id, kept_days.quantity
    from include(kept_app_days) as kept_days
    union all
    select monthly.app_id, monthly.amount_precise
    from rollup_app_region_monthly as monthly
    inner join kept_apps on kept_apps.app_id = monthly.app_id
    where monthly.org_id = :org_id
      and monthly.month_date >= :whole_from
      and monthly.month_date < :whole_until
),

kept_totals as (
    select cast(app_id as text) as series_key, sum(quantity) as quantity
    from kept_usage
    group by app_id
),

other as (
    select
        coalesce(sum(amount_precise), 0)
        - coalesce((select sum(quantity) from kept_totals), 0) as quantity
    from rollup_org_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
),

final as (
    select 'series' as kind, series_key, quantity
    from kept_totals
    union all
    select 'series', '__other__', quantity
    from other
    where quantity <> 0
)

select * from final
order by series_key collate "C"
