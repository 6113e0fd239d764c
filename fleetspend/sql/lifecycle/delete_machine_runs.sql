-- Continues scoped_machines.sql: deletes the runs of the machines in scope.
delete from machine_runs
using scoped_machines
where machine_runs.org_id = scoped_machines.org_id
  and machine_runs.machine_id = scoped_machines.machine_id
