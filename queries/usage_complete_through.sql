-- Through which instant (UTC) an organization's usage has landed in the rollups.
-- Returns one row: usage_complete_through_at, the end of the latest hour folded into the
-- daily rollup (null when the organization has no usage yet). Reads the newest day's rows
-- backwards along the primary key, so it stays a few index reads whatever the statistics.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select * from include(usage_through) as usage_through
