-- The stored volumes among the pairs (org_ids, ids): every column.
select volumes.*
from volumes
join unnest(cast(:org_ids as bigint[]), cast(:ids as text[])) as wanted (org_id, volume_id)
    using (org_id, volume_id)
