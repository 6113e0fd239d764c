-- One organization's spend over [start_date, end_date) by one or two dimensions, biggest first.
-- Params: org_id; start_date, end_date (exclusive); whole_from, whole_until: the months
-- whose monthly rollup rows lie wholly inside the range (readmodels.whole_months; both equal
-- end_date when there are none), read from the monthly rollup, the days outside them from
-- the daily rollup; daily_source: the narrowest rollups holding both dimensions
-- ('app_region', 'region_size' or 'meter', see dimensions.daily_source); dimension_1 and
-- dimension_2, each a dimension of the registry (fleetspend/reads/dimensions.py: app, team, region,
-- continent, preset, product; 'none' for no second one); row_limit: keep the top rows only
-- (null keeps all).
-- Returns: dimension_1_key, dimension_1_label, dimension_2_key, dimension_2_label,
-- amount_precise, amount_cents.
-- The preset key of usage without a machine size (volumes) is 'no-size'.
-- the range's meters (or narrower rows), few enough that naming them below costs little
with range_usage as (
    select
        rollup_rows.app_id,
        rollup_rows.region_code,
        rollup_rows.preset_code,
        rollup_rows.product,
        sum(rollup_rows.amount_precise) as amount_precise
    from include(rollup_rows) as rollup_rows
    group by 1, 2, 3, 4
),

-- a dimension row per meter
dimension_rows as (
    select
        range_usage.app_id,
        apps.team_id,
        range_usage.region_code,
        regions.continent,
        range_usage.preset_code,
        range_usage.product,
        range_usage.amount_precise
    from range_usage
    left join apps on apps.org_id = :org_id and apps.app_id = range_usage.app_id
    left join regions on regions.region_code = range_usage.region_code
),

keyed_usage as (
    select
        dimension_key(:dimension_1) as dimension_1_key,
        dimension_key(:dimension_2) as dimension_2_key,
        sum(amount_precise) as amount_precise
    from dimension_rows
    group by 1, 2
),

final as (
    select
        keyed_usage.dimension_1_key,
        label_1.label as dimension_1_label,
        keyed_usage.dimension_2_key,
        label_2.label as dimension_2_label,
        keyed_usage.amount_precise,
        cast(round(keyed_usage.amount_precise * 100) as bigint) as amount_cents
    from keyed_usage
    left join dimension_labels() as label_1
        on label_1.dimension = :dimension_1 and label_1.key = keyed_usage.dimension_1_key
    left join dimension_labels() as label_2
        on label_2.dimension = :dimension_2 and label_2.key = keyed_usage.dimension_2_key
)

select * from final
order by amount_precise desc, dimension_1_key, dimension_2_key
limit :row_limit
