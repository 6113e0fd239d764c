-- Adds a webhook signed with secret, audited without it: its webhook_id.
select fleetspend_auth.add_alert_webhook(:org_id, :name, :url, :secret)
