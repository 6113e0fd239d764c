-- A rebuild's monthly meter rows, summed from every meter row.
insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select org_id, cast(date_trunc('month', usage_date) as date), app_id, region_code,
       preset_code, product, sum(consumed_quantity), sum(pricing_quantity),
       sum(amount_precise), count(*)
from rollup_usage_daily
group by 1, 2, 3, 4, 5, 6
order by 1, 2
