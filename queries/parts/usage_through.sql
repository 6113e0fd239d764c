-- Part of a statement, put in place of an "include" naming it: through which instant (UTC)
-- the organization :org_id's usage has landed in the rollups (see usage_complete_through.sql):
-- the hour after the latest one its meter rows hold, kept by the fold
-- (rollup_org_latest_hour, migration 0027).
-- Columns: usage_complete_through_at (null when the organization has no usage yet).
with final as (
    select max(last_hour_at) + interval '1 hour' as usage_complete_through_at
    from rollup_org_latest_hour
    where org_id = :org_id
)

select * from final
