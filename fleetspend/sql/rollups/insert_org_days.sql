-- Continues batch.sql: the batch's org rows (per org, day and product) from the per-resource
-- rows, each resource counted once.
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select
    resource_daily.org_id,
    resource_daily.usage_date,
    resource_daily.product,
    sum(resource_daily.consumed_quantity),
    sum(resource_daily.pricing_quantity),
    sum(resource_daily.amount_precise),
    count(distinct resource_daily.resource_id)
from rollup_resource_daily as resource_daily
inner join batch
    on batch.org_id = resource_daily.org_id
    and batch.usage_date = resource_daily.usage_date
group by 1, 2, 3
