-- Every app of org_ids: org_id, name, app_id.
select org_id, name, app_id
from apps
where org_id = any(:org_ids)
