-- Continues batch.sql: the batch's org rows (per org, day and product) from the per-resource
-- rows, each resource counted once.
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select org_id, usage_date, product, sum(consumed_quantity), sum(pricing_quantity),
       sum(amount_precise), count(*)
from (
    -- a resource resized during a day has a row per size: one per resource first (hashed,
    -- where count(distinct ...) would sort every row of the day)
    select resource_daily.org_id, resource_daily.usage_date, resource_daily.product,
           resource_daily.resource_id,
           sum(resource_daily.consumed_quantity) as consumed_quantity,
           sum(resource_daily.pricing_quantity) as pricing_quantity,
           sum(resource_daily.amount_precise) as amount_precise
    from rollup_resource_daily as resource_daily
    inner join batch
        on batch.org_id = resource_daily.org_id
        and batch.usage_date = resource_daily.usage_date
    group by 1, 2, 3, 4
) as per_resource
group by 1, 2, 3
order by 1, 2
