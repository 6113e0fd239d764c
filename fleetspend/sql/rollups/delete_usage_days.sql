-- Continues batch.sql, continued by add_to_usage_monthly.sql: deletes the batch's meter rows
-- (changed), whose sums leave the monthly meter rows (sign -1).
, changed as (
    delete from rollup_usage_daily
    using batch
    where rollup_usage_daily.org_id = batch.org_id
      and rollup_usage_daily.usage_date = batch.usage_date
    returning rollup_usage_daily.*
)
