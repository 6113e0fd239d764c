-- The organization a FOCUS export is for (org_id): org_id, name.
select org_id, name from organizations where org_id = :org_id
