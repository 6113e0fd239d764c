-- The person's receipts of alert_ids (read, not acknowledged).
insert into alert_receipts (org_id, alert_id, user_id)
select :org_id, alert_id, :user_id from unnest(cast(:alert_ids as bigint[])) as alert_id
on conflict do nothing
