-- The stored machines among the pairs (org_ids, ids): every column.
select machines.*
from machines
join unnest(cast(:org_ids as bigint[]), cast(:ids as text[])) as wanted (org_id, machine_id)
    using (org_id, machine_id)
