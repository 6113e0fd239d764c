-- One organization's spend per app, region and day over [start_date, end_date), for
-- spotting anomalies. Params: org_id; start_date, end_date (exclusive).
-- Returns: usage_date, app_id, app_name, region_code, city, amount_cents (each row's
-- unrounded amount rounded once, half up); by day, app and region.
with daily_spend as (
    select usage_date, app_id, region_code, amount_precise
    from rollup_app_region_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
),

final as (
    select
        daily_spend.usage_date,
        daily_spend.app_id,
        apps.name as app_name,
        daily_spend.region_code,
        regions.city,
        cast(round(daily_spend.amount_precise * 100) as bigint) as amount_cents
    from daily_spend
    inner join apps on apps.org_id = :org_id and apps.app_id = daily_spend.app_id
    inner join regions on regions.region_code = daily_spend.region_code
)

select * from final
order by usage_date, app_id, region_code
