-- One organization's spend per day, week or month over [start_date, end_date).
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO, from Monday)
-- or 'month'. Reads the per-org daily rollup.
-- Returns: period_start_date, amount_precise (NUMERIC), amount_cents (rounded once, half up),
-- machines (the most machines running on one day of the period).
with daily_spend as (
    select
        usage_date,
        sum(amount_precise) as amount_precise,
        coalesce(max(resources) filter (where product = 'machine_runtime'), 0) as machines
    from rollup_org_daily
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
        max(machines) as machines
    from daily_spend
    group by 1
)

select * from final
order by period_start_date
