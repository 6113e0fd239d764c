-- What a rebuild holds: its (org, day)s, organizations, first and last day.
select count(distinct (org_id, usage_date)), count(distinct org_id), min(usage_date),
       max(usage_date)
from rollup_org_daily
