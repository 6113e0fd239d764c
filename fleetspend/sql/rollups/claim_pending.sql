-- Claims the noted changes this snapshot sees: org_id, usage_date, hour_at, change_id.
delete from rollup_pending_days returning org_id, usage_date, hour_at, change_id
