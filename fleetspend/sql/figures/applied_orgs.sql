-- The organizations whose month just took their invoice's figures (figure_orgs): org_id.
select org_id from figure_orgs
