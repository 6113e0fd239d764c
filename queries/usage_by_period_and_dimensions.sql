-- One organization's spend or usage per period and by one or two dimensions, for the explorer.
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO) or 'month';
-- whole_from, whole_until: the months whose monthly rollup rows lie wholly inside the range
-- (readmodels.whole_months), read from the monthly rollup when grain is 'month' (both equal
-- end_date otherwise, or when there are none); daily_source: the narrowest rollups
-- holding every dimension grouped or filtered on ('app_region', 'region_size' or 'meter',
-- see readmodels.daily_source; 'app_region' only for spend and machine hours); measure: 'spend',
-- 'machine_hours', 'egress_gb' or 'volume_gb_hours';
-- dimension_1, dimension_2: each one of app, team, region, continent, preset, product
-- ('none' for no second one); app_ids, team_ids (bigint[]), region_codes, continents,
-- preset_codes, products (text[]): keep only these keys of each dimension, null keeps all.
-- Returns: period_start_date, dimension_1_key, dimension_1_label, dimension_2_key,
-- dimension_2_label, quantity (the measure: machine-hours, GB or GB-hours; for 'spend' the
-- unrounded dollars), amount_precise (the spend of the same rows, NUMERIC).
-- The preset key of usage without a machine size (volumes) is 'no-size'.
-- rows carrying every dimension: the meter rows (or, for daily_source 'region_size', the
-- narrow rows without apps) of the days outside whole months and of the whole months
with meter_usage as (
    select
        cast(date_trunc(:grain, usage_date) as date) as period_start_date,
        app_id,
        region_code,
        preset_code,
        product,
        consumed_quantity,
        amount_precise
    from rollup_usage_daily
    where :daily_source = 'meter'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        cast(date_trunc(:grain, usage_date) as date),
        null,
        region_code,
        preset_code,
        product,
        consumed_quantity,
        amount_precise
    from rollup_region_size_daily
    where :daily_source = 'region_size'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select month_date, app_id, region_code, preset_code, product, consumed_quantity,
           amount_precise
    from rollup_usage_monthly
    where :daily_source = 'meter'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select month_date, null, region_code, preset_code, product, consumed_quantity,
           amount_precise
    from rollup_region_size_monthly
    where :daily_source = 'region_size'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

-- the measure of each row (machine runtime in seconds); null where the measure does not
-- apply to the product (rows are aggregated once, at the end, by the dimensions asked for). For daily_source 'app', the
-- days outside whole months come from the per-app rows, spend or machine runtime only.
measured_usage as (
    select
        period_start_date,
        app_id,
        region_code,
        preset_code,
        product,
        amount_precise,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then
                case when product = 'machine_runtime' then consumed_quantity end
            when 'egress_gb' then
                case when product in ('egress_internet', 'egress_private')
                    then consumed_quantity end
            when 'volume_gb_hours' then
                case when product = 'volume' then consumed_quantity end
        end as quantity
    from meter_usage
    union all
    select
        cast(date_trunc(:grain, usage_date) as date),
        app_id,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_app_region_daily
    where :daily_source = 'app_region'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        month_date,
        app_id,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_app_region_monthly
    where :daily_source = 'app_region'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

named_usage as (
    select
        measured_usage.*,
        cast(apps.app_id as text) as app_key,
        apps.name as app_name,
        cast(apps.team_id as text) as team_key,
        teams.name as team_name,
        regions.city as region_city,
        regions.continent,
        coalesce(nullif(measured_usage.preset_code, ''), 'no-size') as preset_key,
        coalesce(nullif(measured_usage.preset_code, ''), 'no machine size') as preset_label,
        products.name as product_name
    from measured_usage
    left join apps on apps.org_id = :org_id and apps.app_id = measured_usage.app_id
    -- teams are billing data: members read usage without team names
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
    left join regions on regions.region_code = measured_usage.region_code
    left join products on products.product = measured_usage.product
    where measured_usage.quantity is not null
      and (cast(:app_ids as bigint[]) is null or apps.app_id = any(cast(:app_ids as bigint[])))
      and (cast(:team_ids as bigint[]) is null
           or apps.team_id = any(cast(:team_ids as bigint[])))
      and (cast(:region_codes as text[]) is null
           or measured_usage.region_code = any(cast(:region_codes as text[])))
      and (cast(:continents as text[]) is null
           or regions.continent = any(cast(:continents as text[])))
      and (cast(:preset_codes as text[]) is null
           or coalesce(nullif(measured_usage.preset_code, ''), 'no-size')
              = any(cast(:preset_codes as text[])))
      and (cast(:products as text[]) is null
           or measured_usage.product = any(cast(:products as text[])))
),

-- each dimension's key and label, picked by the bound dimension names (never formatted in)
keyed_usage as (
    select
        period_start_date,
        case :dimension_1
            when 'app' then app_key
            when 'team' then team_key
            when 'region' then region_code
            when 'continent' then continent
            when 'preset' then preset_key
            when 'product' then product
        end as dimension_1_key,
        case :dimension_1
            when 'app' then app_name
            when 'team' then team_name
            when 'region' then region_city
            when 'continent' then continent
            when 'preset' then preset_label
            when 'product' then product_name
        end as dimension_1_label,
        case :dimension_2
            when 'app' then app_key
            when 'team' then team_key
            when 'region' then region_code
            when 'continent' then continent
            when 'preset' then preset_key
            when 'product' then product
        end as dimension_2_key,
        case :dimension_2
            when 'app' then app_name
            when 'team' then team_name
            when 'region' then region_city
            when 'continent' then continent
            when 'preset' then preset_label
            when 'product' then product_name
        end as dimension_2_label,
        quantity,
        amount_precise
    from named_usage
),

final as (
    select
        period_start_date,
        dimension_1_key,
        dimension_1_label,
        dimension_2_key,
        dimension_2_label,
        -- machine runtime is summed in seconds and turned into hours once
        case :measure
            when 'machine_hours' then sum(quantity) / 3600
            else sum(quantity)
        end as quantity,
        sum(amount_precise) as amount_precise
    from keyed_usage
    group by 1, 2, 3, 4, 5
)

select * from final
order by period_start_date, dimension_1_key, dimension_2_key
