-- Through which instant (UTC) an organization's usage has landed in the rollups.
-- Returns one row: usage_complete_through_at, the end of the latest hour folded into the
-- rollups (null when the organization has no usage yet): one row the fold keeps.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select * from include(usage_through) as usage_through
