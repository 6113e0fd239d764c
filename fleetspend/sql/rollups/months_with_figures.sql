-- Which of the (org, month)s org_ids x month_dates carry an invoice's figures
-- (month_figures): org_id, month_date. Their meter rows are not the per-resource rows' sums,
-- so hours are not added onto them by difference.
select month_figures.org_id, month_figures.month_date
from month_figures
where month_figures.org_id = any(cast(:org_ids as bigint[]))
  and month_figures.month_date = any(cast(:month_dates as date[]))
