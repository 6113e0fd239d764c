-- One organization's spend per day, week or month over [start_date, end_date).
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO, from Monday)
-- or 'month'. Reads the daily meter rollup.
-- Returns: period_start_date, amount_precise (NUMERIC), amount_cents (rounded once, half up),
-- resources (the most machines and volumes billed on one day of the period).
with daily_spend as (
    select
        usage_date,
        sum(amount_precise) as amount_precise,
        sum(resources) as resources
    from rollup_usage_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by usage_date
),

final as (
    select
        cast(date_trunc(:grain, usage_date) as date) as period_start_date,
        sum(amount_precise) as amount_precise,
        cast(round(sum(amount_precise) * 100) as bigint) as amount_cents,
        max(resources) as resources
    from daily_spend
    group by 1
)

select * from final
order by period_start_date
