-- The organization with this slug (slug), for a support engineer opening a grant; null when
-- there is none.
select fleetspend_auth.org_id_for_support(:slug)
