-- Support engineers' audited actions, newest first, at most row_limit, filtered by since,
-- until, engineer_email, org_slug, action and ticket (each null for any): occurred_at,
-- engineer_name, engineer_email, action, org_slug, support_ticket, detail.
select occurred_at, engineer_name, engineer_email, action, org_slug, support_ticket, detail
from fleetspend_auth.support_activity(:since, :until, :engineer_email, :org_slug, :action,
                                      :ticket, :row_limit)
