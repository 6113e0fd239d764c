-- A new app of org in its team team.
insert into apps (org_id, team_id, name)
select teams.org_id, teams.team_id, :app
from teams join organizations using (org_id)
where organizations.slug = :org and teams.name = :team
