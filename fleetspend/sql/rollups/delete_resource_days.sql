-- Continues batch.sql: deletes the batch's per-resource daily rows.
delete from rollup_resource_daily
using batch
where rollup_resource_daily.org_id = batch.org_id
  and rollup_resource_daily.usage_date = batch.usage_date
