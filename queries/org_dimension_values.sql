-- Every value each explorer dimension can take in one organization, for filters and labels.
-- Params: org_id. Returns: dimension (app, team, region, continent, preset, product), key,
-- label; by dimension, then label. Regions, sizes and products are those the org's usage
-- has ever had ('no-size' is usage without a machine size), from the monthly rollup without
-- apps (the same meters, a fraction of the rows).
with org_apps as (
    select
        apps.app_id,
        apps.name,
        apps.team_id,
        teams.name as team_name
    from apps
    left join teams on teams.org_id = apps.org_id and teams.team_id = apps.team_id
    where apps.org_id = :org_id
),

org_meters as (
    select distinct region_code, preset_code, product
    from rollup_region_size_monthly
    where org_id = :org_id
),

-- each dimension's values once (apps are unique already; the other lists are short)
final as (
    select 'app' as dimension, cast(app_id as text) as key, name as label from org_apps
    union all
    select distinct 'team', cast(team_id as text), team_name from org_apps
    union all
    select distinct 'region', regions.region_code, regions.city
    from org_meters
    inner join regions on regions.region_code = org_meters.region_code
    union all
    select distinct 'continent', regions.continent, regions.continent
    from org_meters
    inner join regions on regions.region_code = org_meters.region_code
    union all
    select distinct
        'preset',
        coalesce(nullif(preset_code, ''), 'no-size'),
        coalesce(nullif(preset_code, ''), 'no machine size')
    from org_meters
    union all
    select distinct 'product', products.product, products.name
    from org_meters
    inner join products on products.product = org_meters.product
)

select * from final
order by dimension, label
