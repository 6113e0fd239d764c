-- Continues meters.sql (of months): the months, summed per region, VM size and product.
insert into rollup_region_size_monthly (
    org_id, month_date, region_code, preset_code, product, consumed_quantity, amount_precise
)
select org_id, period_date, region_code, preset_code, product, sum(consumed_quantity),
       sum(amount_precise)
from meters
group by 1, 2, 3, 4, 5
order by 1, 2
