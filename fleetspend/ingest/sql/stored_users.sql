-- The users with emails (lower case) as stored: email (lower case), name.
select lower(email) as email, name
from users
where lower(email) = any(:emails)
