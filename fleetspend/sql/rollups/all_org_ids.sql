-- Every organization's org_id.
select org_id from organizations
