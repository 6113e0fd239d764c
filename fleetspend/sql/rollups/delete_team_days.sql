-- Continues batch.sql: deletes the batch's team (per team) daily rows (rollup_team_daily).
delete from rollup_team_daily as daily
using batch
where daily.org_id = batch.org_id and daily.usage_date = batch.usage_date
