-- Continues months.sql: the months' narrow rows per region, preset, product (rollup_region_size_monthly),
-- summed from the monthly meter rows (kept up to date before, by difference): the same sums
-- as the month's narrow daily rows, from about a tenth of the rows.
insert into rollup_region_size_monthly (
    org_id, month_date, region_code, preset_code, product, consumed_quantity, amount_precise
)
select usage_monthly.org_id, usage_monthly.month_date, region_code, preset_code, product,
       sum(consumed_quantity),
       sum(amount_precise)
from rollup_usage_monthly as usage_monthly
inner join months
    on months.org_id = usage_monthly.org_id
    and months.month_date = usage_monthly.month_date
group by 1, 2, 3, 4, 5
order by 1, 2
