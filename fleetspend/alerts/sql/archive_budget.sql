-- Retires a budget (its alerts stay), with its audit event.
select fleetspend_auth.archive_budget(:org_id, :budget_id)
