-- Turns a webhook on or off, audited.
select fleetspend_auth.set_alert_webhook_enabled(:org_id, :webhook_id, :enabled)
