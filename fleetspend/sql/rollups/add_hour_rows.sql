-- Continues billing's resource_products CTEs (rating.RESOURCE_PRODUCTS_CTES): the staged
-- sums of hours that only add rows after everything their day holds, priced as per-resource
-- rows (hour_rows) and added onto the per-resource daily rows, and their difference added
-- onto the meter rows (daily and monthly) and the org rows, instead of summing the day's
-- per-resource rows again. Only for months without an invoice's figures: those meter rows
-- carry the invoice's cents, not the per-resource rows' sums. Every part of the statement
-- sees the rollups as they were before it (one snapshot), so "not exists" below means "not
-- there before these hours".
, hour_rows as materialized (
    select org_id, usage_date, resource_id, product, coalesce(preset_code, '') as preset_code,
           min(resource_kind) as resource_kind, min(app_id) as app_id,
           min(region_code) as region_code, sum(consumed_quantity) as consumed_quantity,
           sum(quantity) as pricing_quantity, sum(amount_precise) as amount_precise,
           max(last_hour_at) as last_hour_at
    from resource_products
    group by 1, 2, 3, 4, 5
),

-- each row as stored: a row the day held already keeps its app and region (the meter row it
-- counts in); inserted is true for a row the day did not hold
resource_rows as (
    insert into rollup_resource_daily (
        org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id,
        region_code, consumed_quantity, pricing_quantity, amount_precise, last_hour_at
    )
    select * from hour_rows
    on conflict (org_id, usage_date, resource_id, product, preset_code) do update set
        consumed_quantity = rollup_resource_daily.consumed_quantity + excluded.consumed_quantity,
        pricing_quantity = rollup_resource_daily.pricing_quantity + excluded.pricing_quantity,
        amount_precise = rollup_resource_daily.amount_precise + excluded.amount_precise,
        last_hour_at = greatest(rollup_resource_daily.last_hour_at, excluded.last_hour_at)
    returning rollup_resource_daily.org_id, rollup_resource_daily.usage_date,
              rollup_resource_daily.resource_id, rollup_resource_daily.product,
              rollup_resource_daily.preset_code, rollup_resource_daily.app_id,
              rollup_resource_daily.region_code,
              rollup_resource_daily.xmax = 0 as inserted
),

changes as (
    select resource_rows.org_id, resource_rows.usage_date, resource_rows.resource_id,
           resource_rows.product, resource_rows.preset_code, resource_rows.app_id,
           resource_rows.region_code, resource_rows.inserted,
           hour_rows.consumed_quantity, hour_rows.pricing_quantity, hour_rows.amount_precise,
           hour_rows.last_hour_at
    from resource_rows
    inner join hour_rows
        on hour_rows.org_id = resource_rows.org_id
        and hour_rows.usage_date = resource_rows.usage_date
        and hour_rows.resource_id = resource_rows.resource_id
        and hour_rows.product = resource_rows.product
        and hour_rows.preset_code = resource_rows.preset_code
),

meter_change as (
    select org_id, usage_date, app_id, region_code, preset_code, product,
           sum(consumed_quantity) as consumed_quantity,
           sum(pricing_quantity) as pricing_quantity,
           sum(amount_precise) as amount_precise,
           -- each inserted per-resource row is another resource of its meter row
           count(*) filter (where inserted) as resources,
           max(last_hour_at) as last_hour_at
    from changes
    group by 1, 2, 3, 4, 5, 6
),

meter_rows as (
    insert into rollup_usage_daily (
        org_id, usage_date, app_id, region_code, preset_code, product,
        consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at,
        rated_amount_precise
    )
    select org_id, usage_date, app_id, region_code, preset_code, product,
           consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at,
           amount_precise
    from meter_change
    on conflict (org_id, usage_date, app_id, region_code, preset_code, product) do update set
        consumed_quantity = rollup_usage_daily.consumed_quantity + excluded.consumed_quantity,
        pricing_quantity = rollup_usage_daily.pricing_quantity + excluded.pricing_quantity,
        amount_precise = rollup_usage_daily.amount_precise + excluded.amount_precise,
        resources = rollup_usage_daily.resources + excluded.resources,
        last_hour_at = greatest(rollup_usage_daily.last_hour_at, excluded.last_hour_at),
        rated_amount_precise
            = rollup_usage_daily.rated_amount_precise + excluded.rated_amount_precise
    returning rollup_usage_daily.org_id, rollup_usage_daily.usage_date,
              rollup_usage_daily.app_id, rollup_usage_daily.region_code,
              rollup_usage_daily.preset_code, rollup_usage_daily.product,
              rollup_usage_daily.xmax = 0 as inserted
),

-- the per-resource rows the staged days held before (a range of the primary key: nothing for
-- a day's first hour; without it, and with nested loops off, the whole table is hashed)
rows_before as (
    select before.org_id, before.usage_date, before.resource_id, before.product
    from rollup_resource_daily as before
    where before.org_id = any(cast(:org_ids as bigint[]))
      and before.usage_date >= cast(cast(:period_start_at as timestamptz) at time zone 'UTC'
                                    as date)
      and before.usage_date < cast(cast(:period_end_at as timestamptz) at time zone 'UTC'
                                   as date) + 1
),

-- a resource counts once per org row (day and product), whatever its presets: it is new to
-- the row if none of its rows of that day and product was there before
new_resources as (
    select changes.org_id, changes.usage_date, changes.product, changes.resource_id
    from changes
    where changes.inserted
      and not exists (
          select from rows_before
          where rows_before.org_id = changes.org_id
            and rows_before.usage_date = changes.usage_date
            and rows_before.resource_id = changes.resource_id
            and rows_before.product = changes.product
      )
    group by 1, 2, 3, 4
),

org_change as (
    select sums.org_id, sums.usage_date, sums.product, sums.consumed_quantity,
           sums.pricing_quantity, sums.amount_precise,
           coalesce(counted.resources, 0) as resources
    from (
        select org_id, usage_date, product, sum(consumed_quantity) as consumed_quantity,
               sum(pricing_quantity) as pricing_quantity, sum(amount_precise) as amount_precise
        from changes
        group by 1, 2, 3
    ) as sums
    left join (
        select org_id, usage_date, product, count(*) as resources
        from new_resources
        group by 1, 2, 3
    ) as counted
        on counted.org_id = sums.org_id
        and counted.usage_date = sums.usage_date
        and counted.product = sums.product
),

org_rows as (
    insert into rollup_org_daily (
        org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise,
        resources
    )
    select * from org_change
    on conflict (org_id, usage_date, product) do update set
        consumed_quantity = rollup_org_daily.consumed_quantity + excluded.consumed_quantity,
        pricing_quantity = rollup_org_daily.pricing_quantity + excluded.pricing_quantity,
        amount_precise = rollup_org_daily.amount_precise + excluded.amount_precise,
        resources = rollup_org_daily.resources + excluded.resources
),

month_change as (
    select meter_change.org_id,
           cast(date_trunc('month', meter_change.usage_date) as date) as month_date,
           meter_change.app_id, meter_change.region_code, meter_change.preset_code,
           meter_change.product,
           sum(meter_change.consumed_quantity) as consumed_quantity,
           sum(meter_change.pricing_quantity) as pricing_quantity,
           sum(meter_change.amount_precise) as amount_precise,
           -- each inserted meter row is another day row of its month
           count(*) filter (where meter_rows.inserted) as day_rows
    from meter_change
    inner join meter_rows
        on meter_rows.org_id = meter_change.org_id
        and meter_rows.usage_date = meter_change.usage_date
        and meter_rows.app_id = meter_change.app_id
        and meter_rows.region_code = meter_change.region_code
        and meter_rows.preset_code = meter_change.preset_code
        and meter_rows.product = meter_change.product
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
