-- Continues batch.sql: the latest hour already folded into each (org, day) of the batch:
-- org_id, usage_date, last_hour_at.
select rollup_resource_daily.org_id, rollup_resource_daily.usage_date,
       max(rollup_resource_daily.last_hour_at) as last_hour_at
from rollup_resource_daily
inner join batch
    on batch.org_id = rollup_resource_daily.org_id
    and batch.usage_date = rollup_resource_daily.usage_date
group by 1, 2
