-- Deletes the monthly meter rows of the figure_orgs for month_date.
delete from rollup_usage_monthly
where org_id in (select org_id from figure_orgs) and month_date = :month_date
