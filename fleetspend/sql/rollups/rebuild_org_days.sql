-- A rebuild's org rows, summed from every per-resource daily row.
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select org_id, usage_date, product, sum(consumed_quantity), sum(pricing_quantity),
       sum(amount_precise), count(*)
from (
    -- a resource resized during a day has a row per size: one per resource first (hashed,
    -- where count(distinct ...) would sort two million rows)
    select org_id, usage_date, product, resource_id, sum(consumed_quantity) as consumed_quantity,
           sum(pricing_quantity) as pricing_quantity, sum(amount_precise) as amount_precise
    from rollup_resource_daily
    group by 1, 2, 3, 4
) as per_resource
group by 1, 2, 3
order by 1, 2
