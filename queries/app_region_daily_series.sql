-- One organization's daily spend per app and region in the calendar months that
-- [start_date, end_date) touches, for spotting anomalies: a row per app, region and month
-- (rollup_app_region_series, kept when a day is folded), the caller keeps the days in range.
-- Params: org_id; start_date, end_date (exclusive).
-- Returns: app_id, app_name, region_code, city, month_date, days (the days of the month with
-- spend), day_cents (each such day's unrounded amount rounded once, half up), both as
-- comma-separated text (the client reads them with numpy, a million values at 10x the large
-- scale); by app, region and month. A couple of thousand rows where one per day would be tens
-- of thousands.
select
    series.app_id,
    apps.name as app_name,
    series.region_code,
    regions.city,
    series.month_date,
    array_to_string(series.days, ',') as days,
    array_to_string(series.day_cents, ',') as day_cents
from rollup_app_region_series as series
inner join apps on apps.org_id = :org_id and apps.app_id = series.app_id
inner join regions on regions.region_code = series.region_code
where series.org_id = :org_id
  and series.month_date >= cast(date_trunc('month', cast(:start_date as date)) as date)
  and series.month_date < :end_date
order by series.app_id, series.region_code collate "C", series.month_date
