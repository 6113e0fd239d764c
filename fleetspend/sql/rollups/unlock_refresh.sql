-- Lets go of the session's refresh lock (key).
select pg_advisory_unlock(:key)
