-- Continues meters.sql (of days): the batch's days, summed per app, region and VM size.
insert into rollup_app_region_size_daily (
    org_id, usage_date, app_id, region_code, preset_code, runtime_seconds, runtime_amount_precise,
    amount_precise
)
select org_id, period_date, app_id, region_code, preset_code, sum(runtime_seconds),
       sum(runtime_amount_precise), sum(amount_precise)
from meters
group by 1, 2, 3, 4, 5
order by 1, 2
