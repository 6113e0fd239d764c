-- Deletes the org rows of earlier figures (nothing consumed) of the figure_orgs in the month
-- (month_date to next_month_date).
delete from rollup_org_daily
where resources = 0
  and org_id in (select org_id from figure_orgs)
  and usage_date >= :month_date and usage_date < :next_month_date
