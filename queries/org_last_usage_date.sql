-- The latest UTC day with usage in an organization's rollups (null when it has none).
-- Params: org_id. Returns one row: last_usage_date. A backward read of the per-org daily
-- rollup's primary key. A range that ends after this day may read the month it ends in from
-- the monthly rollup, which then holds exactly the range's part of that month.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select max(usage_date) as last_usage_date
from rollup_org_daily
where org_id = :org_id
