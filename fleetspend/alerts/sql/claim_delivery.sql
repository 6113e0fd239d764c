-- One pending delivery, locked for an attempt (skipped if another sender holds it), with its
-- alert, organization and webhook: what the message is made of.
select alert_deliveries.org_id, alert_deliveries.delivery_id, alert_deliveries.channel,
       alert_deliveries.recipients, alert_deliveries.attempts, alerts.alert_id, alerts.kind,
       alerts.title, alerts.explanation, alerts.fired_at, alerts.link_page, alerts.link_params,
       alerts.spent_cents, alerts.budget_cents, alerts.forecast_cents,
       alerts.threshold_percent, organizations.slug as org_slug, alert_webhooks.url,
       alert_webhooks.secret
from alert_deliveries
join alerts on alerts.org_id = alert_deliveries.org_id
           and alerts.alert_id = alert_deliveries.alert_id
join organizations on organizations.org_id = alert_deliveries.org_id
left join alert_webhooks on alert_webhooks.org_id = alert_deliveries.org_id
                        and alert_webhooks.webhook_id = alert_deliveries.webhook_id
where alert_deliveries.org_id = :org_id and alert_deliveries.delivery_id = :delivery_id
  and alert_deliveries.status = 'pending'
for update of alert_deliveries skip locked
