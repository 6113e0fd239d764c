-- An app of org renamed (from current_name) or moved to the team team.
update apps set name = :app, team_id = teams.team_id
from teams join organizations using (org_id)
where organizations.slug = :org and teams.name = :team
  and apps.org_id = teams.org_id and apps.name = :current_name
