-- The (org, month)s of the parallel arrays org_ids and month_dates no longer carry an
-- invoice's figures.
delete from month_figures
where (org_id, month_date) in (
    select * from unnest(cast(:org_ids as bigint[]), cast(:month_dates as date[])))
