-- The teams of the organizations named slugs, each with its apps (none: app null): slug, team, app.
select organizations.slug, teams.name as team, apps.name as app
from teams
join organizations using (org_id)
left join apps on apps.org_id = teams.org_id and apps.team_id = teams.team_id
where organizations.slug = any(:slugs)
