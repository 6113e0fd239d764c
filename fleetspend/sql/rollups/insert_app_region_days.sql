-- Continues meters.sql (of days): the batch's days, summed per app and region.
insert into rollup_app_region_daily (
    org_id, usage_date, app_id, region_code, runtime_seconds, runtime_amount_precise, amount_precise
)
select org_id, period_date, app_id, region_code, sum(runtime_seconds),
       sum(runtime_amount_precise), sum(amount_precise)
from meters
group by 1, 2, 3, 4
order by 1, 2
