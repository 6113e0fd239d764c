-- Continues batch.sql: deletes the batch's narrow (per app, region, preset) daily rows
-- (rollup_app_region_size_daily).
delete from rollup_app_region_size_daily as daily
using batch
where daily.org_id = batch.org_id and daily.usage_date = batch.usage_date
