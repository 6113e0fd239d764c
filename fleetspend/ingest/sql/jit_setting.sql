-- The jit setting in force (to put back after a statement that runs without it).
select current_setting('jit')
