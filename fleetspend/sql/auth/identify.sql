-- The customer or support engineer with this email (email): actor_kind, actor_id, name; no
-- row when there is none.
select actor_kind, actor_id, name from fleetspend_auth.identify(:email)
