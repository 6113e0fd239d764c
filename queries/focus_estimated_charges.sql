-- The estimated FOCUS charges of one organization over [start_date, end_date), from the
-- daily per-resource rollup (for months without a finalized invoice): one row per month,
-- resource, product and size. Params: org_id; start_date, end_date (exclusive).
-- Returns: period_start_date, product, product_name, region_code, region_city, preset_code
-- (null without a size), resource_kind, resource_id, app_id, app_name, consumed_quantity,
-- consumed_unit, pricing_quantity, pricing_unit, list_cost (unrounded).
with resource_month as (
    select
        cast(date_trunc('month', usage_date) as date) as period_start_date,
        resource_id,
        product,
        preset_code,
        min(resource_kind) as resource_kind,
        min(app_id) as app_id,
        min(region_code) as region_code,
        sum(consumed_quantity) as consumed_quantity,
        sum(pricing_quantity) as pricing_quantity,
        sum(amount_precise) as list_cost
    from rollup_resource_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by 1, 2, 3, 4
),

final as (
    select
        resource_month.period_start_date,
        resource_month.product,
        products.name as product_name,
        resource_month.region_code,
        regions.city as region_city,
        nullif(resource_month.preset_code, '') as preset_code,
        resource_month.resource_kind,
        resource_month.resource_id,
        resource_month.app_id,
        apps.name as app_name,
        resource_month.consumed_quantity,
        products.consumed_unit,
        resource_month.pricing_quantity,
        products.pricing_unit,
        resource_month.list_cost
    from resource_month
    inner join products on products.product = resource_month.product
    inner join regions on regions.region_code = resource_month.region_code
    inner join apps on apps.org_id = :org_id and apps.app_id = resource_month.app_id
)

select * from final
order by period_start_date, product, region_code, resource_id
