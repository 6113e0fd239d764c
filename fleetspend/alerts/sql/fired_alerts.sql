-- The alerts one budget has fired for month_start: kind, threshold_percent.
select kind, threshold_percent from alerts
where org_id = :org_id and budget_id = :budget_id and period_start_date = :month_start
