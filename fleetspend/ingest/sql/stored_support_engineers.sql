-- The support engineers with emails (lower case) as stored: email, name, removed_at.
select lower(email) as email, name, removed_at
from staff_users
where lower(email) = any(:emails)
