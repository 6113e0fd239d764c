-- Waits for the refresh lock (key) and holds it until the transaction ends.
select pg_advisory_xact_lock(:key)
