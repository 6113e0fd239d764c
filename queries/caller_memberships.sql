-- The organizations a signed-in customer belongs to now, with their role in each: memberships
-- begun and not removed, of organizations not closed (migration 0015; row-level security
-- enforces the same).
-- Params: user_id. Returns: org_id, slug, name, role ('admin' or 'member'), by slug.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select
    organizations.org_id,
    organizations.slug,
    organizations.name,
    memberships.role
from memberships
inner join organizations on organizations.org_id = memberships.org_id
where
    memberships.user_id = :user_id
    and memberships.created_at <= now()
    and (memberships.removed_at is null or memberships.removed_at > now())
    and (organizations.closed_at is null or organizations.closed_at > now())
order by organizations.slug
