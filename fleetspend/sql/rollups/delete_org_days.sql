-- Continues batch.sql: deletes the batch's org rows.
delete from rollup_org_daily
using batch
where rollup_org_daily.org_id = batch.org_id
  and rollup_org_daily.usage_date = batch.usage_date
