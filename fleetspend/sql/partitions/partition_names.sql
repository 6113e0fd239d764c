-- The names of the partitions of the tables named in tables.
select child.relname
from pg_inherits
join pg_class as child on child.oid = pg_inherits.inhrelid
join pg_class as parent on parent.oid = pg_inherits.inhparent
where parent.relname = any(:tables)
