-- A team of org renamed from renamed_from to team.
update teams set name = :team
from organizations
where organizations.slug = :org and teams.org_id = organizations.org_id
  and teams.name = :renamed_from
