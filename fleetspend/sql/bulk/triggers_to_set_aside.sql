-- The insert triggers with a transition table of the tables transition_triggers (in the
-- current schema), each with the statement that drops it (drop_sql) and the one that adds it
-- back (add_sql); is_primary_key is false. The database composes both, quoting every name.
select format('drop trigger %I on %I', trg.tgname, cls.relname) as drop_sql,
       pg_get_triggerdef(trg.oid) as add_sql,
       false as is_primary_key
from pg_trigger trg
join pg_class cls on cls.oid = trg.tgrelid
where not trg.tgisinternal
  and trg.tgparentid = 0
  and trg.tgnewtable is not null
  and trg.tgtype & 4 <> 0  -- an insert trigger (TRIGGER_TYPE_INSERT)
  and cls.relnamespace = current_schema()::regnamespace
  and cls.relname = any(:transition_triggers)
order by cls.relname, trg.tgname
