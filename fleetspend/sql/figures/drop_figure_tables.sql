-- Drops the temporary tables of applying a month's figures.
drop table figure_cells, figure_orgs, figure_org_days
