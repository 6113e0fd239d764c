-- Continues insert_priced_resource_days.sql: rows already there (the day's earlier hours)
-- take the new hours' sums on.
on conflict (org_id, usage_date, resource_id, product, preset_code) do update set
    consumed_quantity = rollup_resource_daily.consumed_quantity + excluded.consumed_quantity,
    pricing_quantity = rollup_resource_daily.pricing_quantity + excluded.pricing_quantity,
    amount_precise = rollup_resource_daily.amount_precise + excluded.amount_precise,
    last_hour_at = greatest(rollup_resource_daily.last_hour_at, excluded.last_hour_at)
