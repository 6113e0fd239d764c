-- Waits for running imports or billing runs to end, and holds the usage lock until the
-- transaction ends.
select pg_advisory_xact_lock(hashtext('fleetspend usage'))
