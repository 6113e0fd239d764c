-- The person mutes alerts of kind (of budget_id, null for anomalies).
insert into alert_mutes (org_id, user_id, kind, budget_id)
values (:org_id, :user_id, :kind, :budget_id)
on conflict do nothing
