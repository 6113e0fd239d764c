-- Continues batch.sql, continued by a narrow rollup's insert_<name>_days.sql: the batch's
-- meter rows (meters), with their day as period_date and the machine runtime measures apart.
, meters as (
    select
        usage_daily.org_id,
        usage_daily.usage_date as period_date,
        usage_daily.app_id,
        usage_daily.region_code,
        usage_daily.preset_code,
        usage_daily.product,
        case when usage_daily.product = 'machine_runtime'
             then usage_daily.consumed_quantity end as runtime_seconds,
        case when usage_daily.product = 'machine_runtime'
             then usage_daily.amount_precise end as runtime_amount_precise,
        usage_daily.consumed_quantity,
        usage_daily.amount_precise
    from rollup_usage_daily as usage_daily
    inner join batch
        on batch.org_id = usage_daily.org_id
        and batch.usage_date = usage_daily.usage_date
)
