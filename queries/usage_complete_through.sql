-- Through which instant (UTC) an organization's usage has landed in the rollups.
-- Returns one row: usage_complete_through_at, the end of the latest hour folded into the
-- daily rollup (null when the organization has no usage yet). Reads the newest day's rows
-- backwards along the primary key, so it stays a few index reads whatever the statistics.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with latest as (
    select max(last_hour_at) as last_hour_at
    from rollup_usage_daily
    where org_id = :org_id
      and usage_date = (
          select usage_date
          from rollup_usage_daily
          where org_id = :org_id
          order by usage_date desc
          limit 1
      )
),

final as (
    select last_hour_at + interval '1 hour' as usage_complete_through_at
    from latest
)

select * from final
