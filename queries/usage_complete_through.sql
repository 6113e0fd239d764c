-- Through which instant (UTC) an organization's usage has landed in the rollups.
-- Returns one row: usage_complete_through_at, the end of the latest hour folded into the
-- daily rollup (null when the organization has no usage yet).
with latest_day as (
    select max(usage_date) as usage_date
    from rollup_usage_daily
    where org_id = :org_id
),

final as (
    select max(rollup_usage_daily.last_hour_at) + interval '1 hour' as usage_complete_through_at
    from rollup_usage_daily
    inner join latest_day on latest_day.usage_date = rollup_usage_daily.usage_date
    where rollup_usage_daily.org_id = :org_id
)

select * from final
