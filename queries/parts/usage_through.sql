-- Part of a statement, put in place of an "include" naming it: through which instant (UTC)
-- the organization :org_id's usage has landed in the rollups (see usage_complete_through.sql).
-- Columns: usage_complete_through_at (null when the organization has no usage yet).
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
