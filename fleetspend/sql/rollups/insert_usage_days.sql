-- Continues batch.sql, continued by add_to_usage_monthly.sql: the batch's meter rows summed
-- from the per-resource rows (changed), whose sums join the monthly meter rows (sign 1).
, fresh as (
    select
        resource_daily.org_id,
        resource_daily.usage_date,
        resource_daily.app_id,
        resource_daily.region_code,
        resource_daily.preset_code,
        resource_daily.product,
        sum(resource_daily.consumed_quantity) as consumed_quantity,
        sum(resource_daily.pricing_quantity) as pricing_quantity,
        sum(resource_daily.amount_precise) as amount_precise,
        -- a resource has one per-resource row per day, product and preset, so within a meter
        -- row's group each row is another resource
        count(*) as resources,
        max(resource_daily.last_hour_at) as last_hour_at,
        sum(resource_daily.amount_precise) as rated_amount_precise
    from rollup_resource_daily as resource_daily
    inner join batch
        on batch.org_id = resource_daily.org_id
        and batch.usage_date = resource_daily.usage_date
    group by 1, 2, 3, 4, 5, 6
),

changed as (
    insert into rollup_usage_daily (
        org_id, usage_date, app_id, region_code, preset_code, product,
        consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at,
        rated_amount_precise
    )
    select * from fresh
    returning *
)
