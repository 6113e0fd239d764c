-- Continues months.sql: deletes the anomaly findings of the months' organizations, searched
-- in series that are out of date (store_anomalies searches again).
delete from rollup_anomaly_findings as findings
using months
where findings.org_id = months.org_id
