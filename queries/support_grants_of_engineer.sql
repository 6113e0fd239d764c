-- A support engineer's own support grants, newest first (the last 50).
-- Params: staff_user_id. Returns: grant_id, org_id, support_ticket, reason, granted_at,
-- expires_at (UTC); revoked grants are left out.
select
    grant_id,
    org_id,
    support_ticket,
    reason,
    granted_at,
    expires_at
from support_grants
where staff_user_id = :staff_user_id
  and revoked_at is null
order by granted_at desc, grant_id desc
limit 50
