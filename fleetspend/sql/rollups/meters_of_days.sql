-- Continues batch.sql, continued by meters.sql: the batch's daily meter rows (meter_rows),
-- with their day as period_date.
, meter_rows as (
    select
        usage_daily.org_id,
        usage_daily.usage_date as period_date,
        usage_daily.app_id,
        usage_daily.region_code,
        usage_daily.preset_code,
        usage_daily.product,
        usage_daily.consumed_quantity,
        usage_daily.amount_precise
    from rollup_usage_daily as usage_daily
    inner join batch
        on batch.org_id = usage_daily.org_id
        and batch.usage_date = usage_daily.usage_date
)
