-- The first part of the statements on a batch of (org, month) pairs, the parallel arrays
-- org_ids and month_dates (months).
with months as (
    select batch_month.org_id, batch_month.month_date
    from unnest(cast(:org_ids as bigint[]), cast(:month_dates as date[]))
        as batch_month (org_id, month_date)
)
