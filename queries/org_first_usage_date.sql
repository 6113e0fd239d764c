-- The earliest UTC day with usage in an organization's rollups (null when it has none).
-- Params: org_id. Returns one row: first_usage_date. A forward read of the per-org daily
-- rollup's primary key. Comparisons use it to say when a period starts before the data does.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select min(usage_date) as first_usage_date
from rollup_org_daily
where org_id = :org_id
