-- The first part of the statements that put (org, month)s back to rated amounts: the pairs of
-- the parallel arrays org_ids and month_dates (withdrawn), each with its month's end.
with withdrawn as (
    select
        withdrawn_month.org_id,
        withdrawn_month.month_date,
        cast(withdrawn_month.month_date + interval '1 month' as date) as next_month_date
    from unnest(cast(:org_ids as bigint[]), cast(:month_dates as date[]))
        as withdrawn_month (org_id, month_date)
)
