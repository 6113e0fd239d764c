-- Continues batch.sql: the batch's narrow rows per app, region, preset (rollup_app_region_size_daily), summed from
-- the day's meter rows (rebuilt before).
insert into rollup_app_region_size_daily (org_id, usage_date, app_id, region_code, preset_code, runtime_seconds, runtime_amount_precise, amount_precise)
select usage_daily.org_id, usage_daily.usage_date, app_id, region_code, preset_code,
       sum(consumed_quantity) filter (where product = 'machine_runtime'), sum(amount_precise) filter (where product = 'machine_runtime'), sum(amount_precise)
from rollup_usage_daily as usage_daily
inner join batch
    on batch.org_id = usage_daily.org_id
    and batch.usage_date = usage_daily.usage_date
group by 1, 2, 3, 4, 5
order by 1, 2
