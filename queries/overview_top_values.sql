-- The overview's top apps, regions and VM sizes of one calendar month (so far), in one
-- statement, each from the smallest rollup that answers it: apps from the per-app-and-region
-- monthly rows, regions and sizes from the per-region-size-and-product ones (a few hundred rows
-- for the biggest organization, where the meter rows are tens of thousands).
-- Params: org_id; month_date (the month's first day); top: how many values of each dimension
-- (null keeps all).
-- Returns: dimension ('app', 'region', 'preset'), dimension_rank (1 = biggest), key (the
-- app_id as text, the region code, the preset key: 'no-size' for usage without a machine
-- size, as fleetspend/reads/dimensions.py keys it),
-- label, amount_precise, amount_cents (rounded once, half up); by dimension, biggest first
-- (ties by key), as spend_by_dimensions.sql orders them.
-- each dimension's biggest values alone (a top-N sort; null :top keeps all), named after
with top_apps as (
    select cast(app_id as text) as key, app_id, sum(amount_precise) as amount_precise
    from rollup_app_region_monthly
    where org_id = :org_id
      and month_date = :month_date
    group by app_id
    order by 3 desc, 1
    limit :top
),

region_size_spend as (
    select region_code, dimension_key('preset') as preset_key, amount_precise
    from rollup_region_size_monthly
    where org_id = :org_id
      and month_date = :month_date
),

top_regions as (
    select region_code as key, sum(amount_precise) as amount_precise
    from region_size_spend
    group by region_code
    order by 2 desc, 1
    limit :top
),

top_sizes as (
    select preset_key as key, sum(amount_precise) as amount_precise
    from region_size_spend
    group by preset_key
    order by 2 desc, 1
    limit :top
),

dimension_spend as (
    select 'app' as dimension, top_apps.key, apps.name as label, top_apps.amount_precise
    from top_apps
    left join apps on apps.org_id = :org_id and apps.app_id = top_apps.app_id
    union all
    select 'region', top_regions.key, regions.city, top_regions.amount_precise
    from top_regions
    left join regions on regions.region_code = top_regions.key
    union all
    select 'preset', top_sizes.key, size_labels.label, top_sizes.amount_precise
    from top_sizes
    left join dimension_labels('preset') as size_labels
        on size_labels.dimension = 'preset' and size_labels.key = top_sizes.key
),

final as (
    select
        dimension,
        row_number() over (
            partition by dimension order by amount_precise desc, key
        ) as dimension_rank,
        key,
        label,
        amount_precise,
        cast(round(amount_precise * 100) as bigint) as amount_cents
    from dimension_spend
)

select * from final
order by dimension, dimension_rank
