-- Replaces the organization's alert email recipients, audited.
select fleetspend_auth.set_alert_recipients(:org_id, :emails)
