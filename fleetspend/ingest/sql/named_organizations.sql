-- The organizations named slugs: slug, org_id, closed_at.
select slug, org_id, closed_at
from organizations
where slug = any(:slugs)
