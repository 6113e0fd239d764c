-- The organizations a signed-in customer belongs to, with their role in each.
-- Params: user_id. Returns: org_id, slug, name, role ('admin' or 'member'), by slug.
select
    organizations.org_id,
    organizations.slug,
    organizations.name,
    memberships.role
from memberships
inner join organizations on organizations.org_id = memberships.org_id
where memberships.user_id = :user_id
order by organizations.slug
