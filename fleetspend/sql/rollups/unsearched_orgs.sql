-- The organizations among org_ids whose anomaly findings are out of date (none stored).
select organizations.org_id
from organizations
where organizations.org_id = any(cast(:org_ids as bigint[]))
  and not exists (
      select from rollup_anomaly_findings as findings
      where findings.org_id = organizations.org_id
  )
order by 1
