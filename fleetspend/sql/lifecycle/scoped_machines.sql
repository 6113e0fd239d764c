-- The first part of the machine-run statements (lifecycle.py): the machines to work on,
-- every machine (all_machines) or those in the parallel arrays org_ids and machine_ids.
with scoped_machines as (
    select machines.org_id, machines.machine_id, machines.preset_code, machines.memory_mb,
           machines.destroyed_at
    from machines
    where cast(:all_machines as boolean)
       or (machines.org_id, machines.machine_id) in (
           select scope.org_id, scope.machine_id
           from unnest(cast(:org_ids as bigint[]), cast(:machine_ids as text[]))
               as scope (org_id, machine_id))
)
