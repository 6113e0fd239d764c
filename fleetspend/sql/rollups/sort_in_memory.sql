-- Lets this transaction's sorts and hashes use 256 MB of memory.
select set_config('work_mem', '256MB', true)
