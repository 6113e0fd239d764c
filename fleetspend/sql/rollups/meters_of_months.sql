-- Continues months.sql, continued by meters.sql: the months' monthly meter rows (meter_rows:
-- kept up to date before, by difference, and the same sums as the month's narrow daily rows
-- from about a tenth of the rows), with their month as period_date.
, meter_rows as (
    select
        usage_monthly.org_id,
        usage_monthly.month_date as period_date,
        usage_monthly.app_id,
        usage_monthly.region_code,
        usage_monthly.preset_code,
        usage_monthly.product,
        usage_monthly.consumed_quantity,
        usage_monthly.amount_precise
    from rollup_usage_monthly as usage_monthly
    inner join months
        on months.org_id = usage_monthly.org_id
        and months.month_date = usage_monthly.month_date
)
