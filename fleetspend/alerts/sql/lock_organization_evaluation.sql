-- Waits for, then holds until the transaction ends, the evaluation lock of org_id (one
-- evaluation of an organization at a time); lock_class is its first key.
select pg_advisory_xact_lock(:lock_class, :org_id)
