-- Creates (budget_id null) or changes a budget with its audit event, through migration 0016's
-- function (the caller must be an admin of org_id): the budget's id.
select fleetspend_auth.save_budget(
    :org_id, :budget_id, :name, :scope_kind, :team_id, :app_id, :amount_cents,
    cast(:actual as smallint[]), cast(:forecast as smallint[]), cast(:months as jsonb)
)
