-- The person unmutes alerts of kind (of budget_id, null for anomalies).
delete from alert_mutes
where org_id = :org_id and user_id = :user_id and kind = :kind
  and budget_id is not distinct from cast(:budget_id as bigint)
