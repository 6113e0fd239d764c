-- Waits for the refresh lock (key) and holds it for the session, until unlock_refresh.sql.
select pg_advisory_lock(:key)
