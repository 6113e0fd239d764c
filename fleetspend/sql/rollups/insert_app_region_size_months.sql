-- Continues months.sql: the months' narrow rows per app, region, preset (rollup_app_region_size_monthly),
-- summed from the monthly meter rows (kept up to date before, by difference): the same sums
-- as the month's narrow daily rows, from about a tenth of the rows.
insert into rollup_app_region_size_monthly (
    org_id, month_date, app_id, region_code, preset_code, runtime_seconds, runtime_amount_precise, amount_precise
)
select usage_monthly.org_id, usage_monthly.month_date, app_id, region_code, preset_code,
       sum(consumed_quantity) filter (where product = 'machine_runtime'),
       sum(amount_precise) filter (where product = 'machine_runtime'),
       sum(amount_precise)
from rollup_usage_monthly as usage_monthly
inner join months
    on months.org_id = usage_monthly.org_id
    and months.month_date = usage_monthly.month_date
group by 1, 2, 3, 4, 5
order by 1, 2
