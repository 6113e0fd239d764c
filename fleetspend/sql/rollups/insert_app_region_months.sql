-- Continues meters.sql (of months): the months, summed per app and region.
insert into rollup_app_region_monthly (
    org_id, month_date, app_id, region_code, runtime_seconds, runtime_amount_precise, amount_precise
)
select org_id, period_date, app_id, region_code, sum(runtime_seconds),
       sum(runtime_amount_precise), sum(amount_precise)
from meters
group by 1, 2, 3, 4
order by 1, 2
