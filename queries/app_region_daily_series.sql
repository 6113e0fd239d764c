-- One organization's daily spend per app and region over [start_date, end_date), as one row
-- per app and region holding its days and their cents, for spotting anomalies.
-- Params: org_id; start_date, end_date (exclusive).
-- Returns: app_id, app_name, region_code, city, day_offsets (int[], days since start_date
-- with spend), day_cents (bigint[], each such day's unrounded amount rounded once, half up);
-- by app and region. A few hundred rows where one per day would be tens of thousands.
-- The days of a row come in no particular order, but in the same order in both arrays (one
-- aggregation pass feeds both): sorting each app and region's days cost more than the rest.
with series as (
    select
        app_id,
        region_code,
        array_agg(usage_date - cast(:start_date as date)) as day_offsets,
        array_agg(cast(round(amount_precise * 100) as bigint)) as day_cents
    from rollup_app_region_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by 1, 2
),

final as (
    select
        series.app_id,
        apps.name as app_name,
        series.region_code,
        regions.city,
        series.day_offsets,
        series.day_cents
    from series
    inner join apps on apps.org_id = :org_id and apps.app_id = series.app_id
    inner join regions on regions.region_code = series.region_code
)

select * from final
order by app_id, region_code collate "C"
