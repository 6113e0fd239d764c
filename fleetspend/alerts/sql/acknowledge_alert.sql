-- The person acknowledges alert_id (read too).
insert into alert_receipts (org_id, alert_id, user_id, acknowledged_at)
values (:org_id, :alert_id, :user_id, now())
on conflict (org_id, alert_id, user_id) do update set acknowledged_at = now()
