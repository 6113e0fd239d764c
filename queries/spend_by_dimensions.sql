-- One organization's spend over [start_date, end_date) by one or two dimensions, biggest first.
-- Params: org_id; start_date, end_date (exclusive); whole_from, whole_until: the months
-- whose monthly rollup rows lie wholly inside the range (readmodels.whole_months; both equal
-- end_date when there are none), read from the monthly rollup, the days outside them from
-- the daily rollup; daily_source: the narrowest rollups holding both dimensions
-- ('app_region', 'region_size' or 'meter', see readmodels.daily_source); dimension_1 and dimension_2, each
-- one of app, team, region, continent, preset, product ('none' for no second one);
-- row_limit: keep the top rows only (null keeps all).
-- Returns: dimension_1_key, dimension_1_label, dimension_2_key, dimension_2_label,
-- amount_precise, amount_cents.
-- A null preset key is usage without a machine size (volumes).
-- the days outside whole months, and the whole months, from the rollups daily_source names;
-- the columns a narrow table lacks are null
with daily_usage as (
    select app_id, region_code, preset_code, product, amount_precise
    from rollup_usage_daily
    where :daily_source = 'meter'
      and org_id = :org_id
      and (
          (usage_date >= :start_date and usage_date < :whole_from)
          or (usage_date >= :whole_until and usage_date < :end_date)
      )
    union all
    select app_id, region_code, null, null, amount_precise
    from rollup_app_region_daily
    where :daily_source = 'app_region'
      and org_id = :org_id
      and (
          (usage_date >= :start_date and usage_date < :whole_from)
          or (usage_date >= :whole_until and usage_date < :end_date)
      )
    union all
    select null, region_code, preset_code, product, amount_precise
    from rollup_region_size_daily
    where :daily_source = 'region_size'
      and org_id = :org_id
      and (
          (usage_date >= :start_date and usage_date < :whole_from)
          or (usage_date >= :whole_until and usage_date < :end_date)
      )
),

monthly_usage as (
    select app_id, region_code, preset_code, product, amount_precise
    from rollup_usage_monthly
    where :daily_source = 'meter'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select app_id, region_code, null, null, amount_precise
    from rollup_app_region_monthly
    where :daily_source = 'app_region'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select null, region_code, preset_code, product, amount_precise
    from rollup_region_size_monthly
    where :daily_source = 'region_size'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

-- the range's meters, few enough that naming them below costs little
meter_usage as (
    select
        app_id,
        region_code,
        preset_code,
        product,
        sum(amount_precise) as amount_precise
    from (
        select * from daily_usage
        union all
        select * from monthly_usage
    ) as range_usage
    group by 1, 2, 3, 4
),

named_usage as (
    select
        meter_usage.*,
        apps.name as app_name,
        apps.team_id,
        teams.name as team_name,
        regions.city as region_city,
        regions.continent,
        products.name as product_name
    from meter_usage
    left join apps on apps.org_id = :org_id and apps.app_id = meter_usage.app_id
    -- teams are billing data: members read usage without team names
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
    left join regions on regions.region_code = meter_usage.region_code
    left join products on products.product = meter_usage.product
),

-- each dimension's key and label, picked by the bound dimension names (never formatted in)
keyed_usage as (
    select
        case :dimension_1
            when 'app' then cast(app_id as text)
            when 'team' then cast(team_id as text)
            when 'region' then region_code
            when 'continent' then continent
            when 'preset' then nullif(preset_code, '')
            when 'product' then product
        end as dimension_1_key,
        case :dimension_1
            when 'app' then app_name
            when 'team' then team_name
            when 'region' then region_city
            when 'continent' then continent
            when 'preset' then coalesce(nullif(preset_code, ''), 'no machine size')
            when 'product' then product_name
        end as dimension_1_label,
        case :dimension_2
            when 'app' then cast(app_id as text)
            when 'team' then cast(team_id as text)
            when 'region' then region_code
            when 'continent' then continent
            when 'preset' then nullif(preset_code, '')
            when 'product' then product
        end as dimension_2_key,
        case :dimension_2
            when 'app' then app_name
            when 'team' then team_name
            when 'region' then region_city
            when 'continent' then continent
            when 'preset' then coalesce(nullif(preset_code, ''), 'no machine size')
            when 'product' then product_name
        end as dimension_2_label,
        amount_precise
    from named_usage
),

final as (
    select
        dimension_1_key,
        dimension_1_label,
        dimension_2_key,
        dimension_2_label,
        sum(amount_precise) as amount_precise,
        cast(round(sum(amount_precise) * 100) as bigint) as amount_cents
    from keyed_usage
    group by 1, 2, 3, 4
)

select * from final
order by amount_precise desc, dimension_1_key, dimension_2_key
limit :row_limit
