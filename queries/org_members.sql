-- The current members of one organization with their role, for its admins (and support under
-- a grant): memberships begun and not removed (a removed one stays stored, as history).
-- Params: org_id. Returns: user_id, name, email, role, joined_at (UTC); admins first.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select
    users.user_id,
    users.name,
    users.email,
    memberships.role,
    memberships.created_at as joined_at
from memberships
inner join users on users.user_id = memberships.user_id
where
    memberships.org_id = :org_id
    and memberships.created_at <= now()
    and (memberships.removed_at is null or memberships.removed_at > now())
order by memberships.role, users.name
