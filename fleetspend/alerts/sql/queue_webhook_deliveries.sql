-- A delivery of each of alert_ids to each of the organization's enabled webhooks.
insert into alert_deliveries (org_id, alert_id, channel, webhook_id)
select :org_id, new_alerts.alert_id, 'webhook', alert_webhooks.webhook_id
from unnest(cast(:alert_ids as bigint[])) as new_alerts (alert_id)
cross join alert_webhooks
where alert_webhooks.org_id = :org_id and alert_webhooks.is_enabled
on conflict do nothing
