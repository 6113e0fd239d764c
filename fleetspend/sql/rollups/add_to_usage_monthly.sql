-- Continues delete_usage_days.sql or insert_usage_days.sql: adds the changed meter rows'
-- sums, times sign (1 for new rows, -1 for old ones), to the monthly meter rows.
, month_change as (
    select
        org_id,
        cast(date_trunc('month', usage_date) as date) as month_date,
        app_id,
        region_code,
        preset_code,
        product,
        :sign * sum(consumed_quantity) as consumed_quantity,
        :sign * sum(pricing_quantity) as pricing_quantity,
        :sign * sum(amount_precise) as amount_precise,
        :sign * count(*) as day_rows
    from changed
    group by 1, 2, 3, 4, 5, 6
)

insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select * from month_change
on conflict (org_id, month_date, app_id, region_code, preset_code, product) do update set
    consumed_quantity = rollup_usage_monthly.consumed_quantity + excluded.consumed_quantity,
    pricing_quantity = rollup_usage_monthly.pricing_quantity + excluded.pricing_quantity,
    amount_precise = rollup_usage_monthly.amount_precise + excluded.amount_precise,
    day_rows = rollup_usage_monthly.day_rows + excluded.day_rows
