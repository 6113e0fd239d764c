-- One organization's stored anomaly findings (rollup_anomaly_findings, searched when its
-- usage was last folded).
-- Params: org_id. Returns at most one row: through_at (the "usage complete through" instant
-- the search was made as of), findings (JSON: fleetspend.anomaly_search.Anomaly, biggest first).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select through_at, findings
from rollup_anomaly_findings
where org_id = :org_id
