-- Tries to claim a file for this session (the advisory lock lock_class, file_key): true when
-- it is now ours.
select pg_try_advisory_lock(:lock_class, :file_key)
