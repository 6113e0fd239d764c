-- The latest hour the meter rows of each of org_ids hold (rollup_org_latest_hour, kept by
-- every fold): org_id, last_hour_at. No row for an organization without one.
select latest.org_id, latest.last_hour_at
from rollup_org_latest_hour as latest
where latest.org_id = any(cast(:org_ids as bigint[]))
