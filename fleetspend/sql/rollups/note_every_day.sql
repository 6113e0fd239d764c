-- Notes every day with usage or with rollup rows (whose usage may all be gone).
insert into rollup_pending_days (org_id, usage_date)
select org_id, cast(hour_at at time zone 'UTC' as date) from machine_usage
union
select org_id, cast(hour_at at time zone 'UTC' as date) from volume_usage
union
select org_id, usage_date from rollup_resource_daily
