-- The first part of the statements on a batch of (org, day) pairs, the parallel arrays
-- org_ids and usage_dates (batch).
with batch as (
    select batch_day.org_id, batch_day.usage_date
    from unnest(cast(:org_ids as bigint[]), cast(:usage_dates as date[]))
        as batch_day (org_id, usage_date)
)
