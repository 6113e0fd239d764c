-- How fresh one organization's figures are, in one statement (four round trips before): the
-- answering server's lag and the organization's usage in the rollups, from its first day to
-- the last hour folded.
-- Params: org_id. Returns one row: is_replica, is_receiving, lag_seconds, lag_bytes,
-- last_replayed_at (as replica_lag.sql); usage_complete_through_at (as
-- usage_complete_through.sql); first_usage_date and last_usage_date, the earliest and latest
-- UTC days with usage in the per-org daily rollup (as org_last_usage_date.sql; null without
-- usage).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with server_lag as include(server_lag),

usage_through as include(usage_through),

usage_days as (
    select
        min(usage_date) as first_usage_date,
        max(usage_date) as last_usage_date
    from rollup_org_daily
    where org_id = :org_id
),

final as (
    select
        server_lag.*,
        usage_through.usage_complete_through_at,
        usage_days.first_usage_date,
        usage_days.last_usage_date
    from server_lag
    cross join usage_through
    cross join usage_days
)

select * from final
