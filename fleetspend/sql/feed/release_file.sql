-- Lets go of this session's claim on a file (lock_class, file_key).
select pg_advisory_unlock(:lock_class, :file_key)
