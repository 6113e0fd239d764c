-- The meter rows of the figure_orgs in the month (month_date to next_month_date) summed per
-- org, day and product, into the temporary table figure_org_days.
create temp table figure_org_days on commit drop as
select org_id, usage_date, product, sum(amount_precise) as amount_precise
from rollup_usage_daily
where org_id in (select org_id from figure_orgs)
  and usage_date >= :month_date and usage_date < :next_month_date
group by 1, 2, 3
