-- Continues batch.sql: deletes the batch's team (per team, region) daily rows
-- (rollup_team_region_daily).
delete from rollup_team_region_daily as daily
using batch
where daily.org_id = batch.org_id and daily.usage_date = batch.usage_date
