-- A new team of the organization org.
insert into teams (org_id, name)
select org_id, :team from organizations
where slug = :org
