-- A membership of email in org, new or changed: its role and when it began and ended.
insert into memberships (org_id, user_id, role, created_at, removed_at)
select organizations.org_id, users.user_id, :role, :joined_at, :removed_at
from organizations, users
where organizations.slug = :org and lower(users.email) = :email
on conflict (org_id, user_id) do update
set role = excluded.role, created_at = excluded.created_at,
    removed_at = excluded.removed_at
