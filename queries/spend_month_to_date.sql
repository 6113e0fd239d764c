-- Month-to-date spend of one organization beside the same stretch of the month before.
-- Params: org_id; as_of_date: the last day counted (usually the day usage is complete
-- through). This month runs from its first day through as_of_date; last month from its
-- first day through the same day number (its last day if it is shorter).
-- Reads the per-org daily rollup. Returns one row: month_start_date, as_of_date,
-- amount_precise, amount_cents, previous_month_start_date, previous_as_of_date,
-- previous_amount_precise, previous_amount_cents.
with bounds as (
    select
        cast(date_trunc('month', cast(:as_of_date as date)) as date) as month_start_date,
        cast(:as_of_date as date) as as_of_date,
        cast(date_trunc('month', cast(:as_of_date as date)) - interval '1 month' as date)
            as previous_month_start_date,
        least(
            cast(cast(:as_of_date as date) - interval '1 month' as date),
            cast(date_trunc('month', cast(:as_of_date as date)) - interval '1 day' as date)
        ) as previous_as_of_date
),

this_month as (
    select coalesce(sum(rollup_org_daily.amount_precise), 0) as amount_precise
    from rollup_org_daily
    cross join bounds
    where rollup_org_daily.org_id = :org_id
      and rollup_org_daily.usage_date between bounds.month_start_date and bounds.as_of_date
),

previous_month as (
    select coalesce(sum(rollup_org_daily.amount_precise), 0) as amount_precise
    from rollup_org_daily
    cross join bounds
    where rollup_org_daily.org_id = :org_id
      and rollup_org_daily.usage_date
          between bounds.previous_month_start_date and bounds.previous_as_of_date
),

final as (
    select
        bounds.month_start_date,
        bounds.as_of_date,
        this_month.amount_precise,
        cast(round(this_month.amount_precise * 100) as bigint) as amount_cents,
        bounds.previous_month_start_date,
        bounds.previous_as_of_date,
        previous_month.amount_precise as previous_amount_precise,
        cast(round(previous_month.amount_precise * 100) as bigint) as previous_amount_cents
    from bounds
    cross join this_month
    cross join previous_month
)

select * from final
