-- The memberships in the organizations named slugs: slug, email (lower case), role, joined_at, removed_at.
select organizations.slug, lower(users.email) as email, memberships.role,
       memberships.created_at as joined_at, memberships.removed_at
from memberships
join organizations using (org_id)
join users using (user_id)
where organizations.slug = any(:slugs)
