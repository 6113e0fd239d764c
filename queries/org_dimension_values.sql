-- Every value each explorer dimension can take in one organization, for filters and labels.
-- Params: org_id. Returns: dimension (each of the registry, fleetspend/reads/dimensions.py), key,
-- label; by dimension, then label. Apps and teams are the organization's apps and their
-- teams; regions, sizes and products those the org's usage has ever had ('no-size' is usage
-- without a machine size), from the monthly rollup without apps (the same meters, a fraction
-- of the rows).
-- a dimension row per app and per meter the usage has had (each holds only its own columns)
with org_rows as (
    select
        app_id,
        team_id,
        cast(null as text) as region_code,
        cast(null as text) as continent,
        cast(null as text) as preset_code,
        cast(null as text) as product
    from apps
    where org_id = :org_id
    union all
    select
        null,
        null,
        org_meters.region_code,
        regions.continent,
        org_meters.preset_code,
        org_meters.product
    from (
        select distinct region_code, preset_code, product
        from rollup_region_size_monthly
        where org_id = :org_id
    ) as org_meters
    left join regions on regions.region_code = org_meters.region_code
),

-- each dimension's keys among them, once
org_keys as (
    select distinct dimension_keys.dimension, dimension_keys.key
    from dimension_keys(org_rows) as dimension_keys
    where dimension_keys.key is not null
),

final as (
    select org_keys.dimension, org_keys.key, labels.label
    from org_keys
    -- teams are billing data: members read their keys without names
    left join dimension_labels() as labels
        on labels.dimension = org_keys.dimension and labels.key = org_keys.key
)

select * from final
order by dimension, label
