-- The overview's top apps, regions and VM sizes of one calendar month (so far), in one
-- statement, each from the smallest rollup that answers it: apps from the per-app-and-region
-- monthly rows, regions and sizes from the per-region-size-and-product ones (a few hundred rows
-- for the biggest organization, where the meter rows are tens of thousands).
-- Params: org_id; month_date (the month's first day); top: how many values of each dimension
-- (null keeps all).
-- Returns: dimension ('app', 'region', 'preset'), dimension_rank (1 = biggest), key (the
-- app_id as text, the region code, the preset code; null for usage without a machine size),
-- label, amount_precise, amount_cents (rounded once, half up); by dimension, biggest first
-- (ties by key), as spend_by_dimensions.sql orders them.
with app_spend as (
    select app_id, sum(amount_precise) as amount_precise
    from rollup_app_region_monthly
    where org_id = :org_id
      and month_date = :month_date
    group by app_id
),

region_size_spend as (
    select region_code, nullif(preset_code, '') as preset_code, amount_precise
    from rollup_region_size_monthly
    where org_id = :org_id
      and month_date = :month_date
),

dimension_spend as (
    select
        'app' as dimension,
        cast(app_spend.app_id as text) as key,
        apps.name as label,
        app_spend.amount_precise
    from app_spend
    left join apps on apps.org_id = :org_id and apps.app_id = app_spend.app_id
    union all
    select 'region', region_code, min(regions.city), sum(amount_precise)
    from region_size_spend
    left join regions using (region_code)
    group by region_code
    union all
    select 'preset', preset_code, coalesce(preset_code, 'no machine size'), sum(amount_precise)
    from region_size_spend
    group by preset_code
),

ranked as (
    select
        dimension_spend.*,
        row_number() over (
            partition by dimension order by amount_precise desc, key
        ) as dimension_rank
    from dimension_spend
),

final as (
    select
        dimension,
        dimension_rank,
        key,
        label,
        amount_precise,
        cast(round(amount_precise * 100) as bigint) as amount_cents
    from ranked
    where dimension_rank <= coalesce(cast(:top as bigint), dimension_rank)
)

select * from final
order by dimension, dimension_rank
