-- The org_id of the organization with slug, if any.
select org_id from organizations where slug = :slug
