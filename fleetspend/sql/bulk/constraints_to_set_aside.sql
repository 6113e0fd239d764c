-- The constraints to set aside: the foreign keys of the tables foreign_keys and the primary
-- keys of primary_keys (in the current schema), each with the statement that drops it
-- (drop_sql) and the one that adds it back (add_sql), primary keys first; is_primary_key.
-- The database composes both statements, quoting every name (format's %I).
select format('alter table %I drop constraint %I', cls.relname, con.conname) as drop_sql,
       format('alter table %I add constraint %I %s', cls.relname, con.conname,
              pg_get_constraintdef(con.oid)) as add_sql,
       con.contype = 'p' as is_primary_key
from pg_constraint con
join pg_class cls on cls.oid = con.conrelid
where con.conparentid = 0
  and cls.relnamespace = current_schema()::regnamespace
  and ((con.contype = 'f' and cls.relname = any(:foreign_keys))
       or (con.contype = 'p' and cls.relname = any(:primary_keys)))
order by con.contype = 'p' desc, cls.relname, con.conname
