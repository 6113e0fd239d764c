-- Part of a statement, put in place of an "include" naming it: each kept app's spend on each
-- day with any spend, for the including statement's range_days (usage_date) and kept_apps
-- (app_id), looked up by key a day and an app at a time (a lateral probe each): a range scan
-- would read every app's rows of the range to keep a few.
-- Columns: usage_date, app_id, quantity (a row per day and kept app with spend that day).
select range_days.usage_date, kept_apps.app_id, app_day.quantity
from range_days
cross join kept_apps
cross join lateral (
    select sum(daily.amount_precise) as quantity
    from rollup_app_region_daily as daily
    where daily.org_id = :org_id
      and daily.usage_date = range_days.usage_date
      and daily.app_id = kept_apps.app_id
) as app_day
where app_day.quantity is not null
