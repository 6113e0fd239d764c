-- A rebuild's meter rows, summed from every per-resource daily row.
insert into rollup_usage_daily (
    org_id, usage_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at,
    rated_amount_precise
)
select org_id, usage_date, app_id, region_code, preset_code, product,
       sum(consumed_quantity), sum(pricing_quantity), sum(amount_precise),
       count(*), max(last_hour_at), sum(amount_precise)
from rollup_resource_daily
group by 1, 2, 3, 4, 5, 6
order by 1, 2
