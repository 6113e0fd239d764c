-- Continues meters_of_days.sql or meters_of_months.sql, continued by a narrow rollup's
-- insert_<name>_days.sql or insert_<name>_months.sql: the meter rows (meters) with the
-- machine runtime measures apart.
, meters as (
    select
        meter_rows.org_id,
        meter_rows.period_date,
        meter_rows.app_id,
        meter_rows.region_code,
        meter_rows.preset_code,
        meter_rows.product,
        case when meter_rows.product = 'machine_runtime'
             then meter_rows.consumed_quantity end as runtime_seconds,
        case when meter_rows.product = 'machine_runtime'
             then meter_rows.amount_precise end as runtime_amount_precise,
        meter_rows.consumed_quantity,
        meter_rows.amount_precise
    from meter_rows
)
