-- Every organization's org_id, in order.
select org_id from organizations order by org_id
