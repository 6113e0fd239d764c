-- Deletes the monthly meter rows of org_ids and month_dates whose every daily row is gone.
delete from rollup_usage_monthly
where day_rows = 0
  and org_id = any(cast(:org_ids as bigint[]))
  and month_date = any(cast(:month_dates as date[]))
