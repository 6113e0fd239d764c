-- Ends the active support grant grant_id now, with its audit event in the revoker's name
-- (migration 0010).
select fleetspend_auth.revoke_support_grant(:grant_id)
