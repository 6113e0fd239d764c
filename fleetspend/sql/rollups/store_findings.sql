-- Stores one organization's anomaly findings (org_id, through_at, findings as JSON text).
insert into rollup_anomaly_findings (org_id, through_at, findings)
values (:org_id, :through_at, cast(:findings as jsonb))
on conflict (org_id) do update set
    through_at = excluded.through_at, findings = excluded.findings, searched_at = now()
