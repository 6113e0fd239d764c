-- The first support engineer's staff_user_id (who settles the seeded disputes).
select min(staff_user_id) from staff_users
