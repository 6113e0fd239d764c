-- Moves the identity sequences the seed fills with explicit ids (organizations, users, staff
-- users, teams, apps) past the last id, so rows added later get fresh ones.
select setval(pg_get_serial_sequence('organizations', 'org_id'),
              coalesce((select max(org_id) from organizations), 0) + 1, false),
       setval(pg_get_serial_sequence('users', 'user_id'),
              coalesce((select max(user_id) from users), 0) + 1, false),
       setval(pg_get_serial_sequence('staff_users', 'staff_user_id'),
              coalesce((select max(staff_user_id) from staff_users), 0) + 1, false),
       setval(pg_get_serial_sequence('teams', 'team_id'),
              coalesce((select max(team_id) from teams), 0) + 1, false),
       setval(pg_get_serial_sequence('apps', 'app_id'),
              coalesce((select max(app_id) from apps), 0) + 1, false)
