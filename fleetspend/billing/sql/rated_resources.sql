-- Ends create_rated_resources.sql (after resource_products.sql): per line and machine or
-- volume, its quantities and precise amount, and the line's number on its invoice.

-- lines split machine runtime by preset and memory and egress by group; for other products
-- the size of a machine does not matter, and a machine resized within the month is summed
-- into one allocation per line
, month_usage as (
    select resource_products.org_id,
           resource_products.product,
           resource_products.price_list_id,
           resource_products.region_code,
           case when resource_products.product = 'machine_runtime'
                then resource_products.preset_code end as preset_code,
           case when resource_products.product = 'machine_runtime'
                then resource_products.memory_mb end as memory_mb,
           case when resource_products.product like 'egress%'
                then resource_products.egress_group end as egress_group,
           resource_products.unit_price,
           products.consumed_unit,
           products.pricing_unit,
           products.consumed_per_pricing_unit,
           resource_products.resource_kind,
           resource_products.resource_id,
           resource_products.app_id,
           sum(resource_products.consumed_quantity) as consumed_quantity
    from resource_products
    join products on products.product = resource_products.product
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14
)

-- a resource's amount is its summed quantity times the unit price, shown to 18 decimals
select month_usage.*,
       round(month_usage.consumed_quantity / month_usage.consumed_per_pricing_unit, 18)
           as quantity,
       round(month_usage.consumed_quantity * month_usage.unit_price
             / month_usage.consumed_per_pricing_unit, 18) as amount_precise,
       dense_rank() over (
           partition by month_usage.org_id
           order by array_position(cast(:product_order as text[]), month_usage.product),
                    month_usage.region_code, month_usage.preset_code, month_usage.memory_mb,
                    month_usage.egress_group, month_usage.price_list_id, month_usage.unit_price
       ) as line_no
from month_usage
