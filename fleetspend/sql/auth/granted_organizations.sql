-- The organizations the calling support engineer's own grants name: org_id, org_name (an
-- engineer may not read organizations; the database names them).
select org_id, org_name from fleetspend_auth.granted_organizations()
