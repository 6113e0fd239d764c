-- The organizations named slugs as stored: slug, name, created_at, closed_at.
select slug, name, created_at, closed_at
from organizations
where slug = any(:slugs)
