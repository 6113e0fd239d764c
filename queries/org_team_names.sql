-- One organization's teams, spending or not, by name: what the team comparison names (its
-- apps and running machines, which queries/org_teams.sql counts for the members page from
-- every machine, it does not show).
-- Params: org_id. Returns: team_id, name.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select team_id, name
from teams
where org_id = :org_id
order by name
