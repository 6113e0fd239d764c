-- The seeded people a demo visitor may be, by label: email, label (org admins and developers
-- of each organization, then support engineers). Read with the owner's connection.
select users.email,
       case memberships.role when 'admin' then 'Org admin' else 'Developer' end
           || ' of ' || organizations.slug as label
from users
join memberships on memberships.user_id = users.user_id
join organizations on organizations.org_id = memberships.org_id
where users.email like 'admin@%' or users.email like 'dev@%'
union all
select email, 'Support engineer (' || name || ')' from staff_users
order by 2
