-- Each cell's cents spread over its days of the month (month_date to next_month_date) for
-- the invoices of org_ids, into the temporary table figure_cells: org_id, usage_date, app_id,
-- region_code, preset_code, product, cents, and whether a meter row has that key
-- (has_meter_row: every meter row of the month does, with 0 cents if nothing was billed to
-- it). See fleetspend/figures.py's docstring.
create temp table figure_cells on commit drop as
with applied as (
    select invoices.org_id, invoices.invoice_id
    from invoices
    where invoices.period_start_date = :month_date
      and invoices.org_id = any(cast(:org_ids as bigint[]))
      and invoices.status <> 'void'
),

-- the invoice's cents per app, region, product and, for machine runtime, VM size (lines of
-- other products have none: null matches every size), adjustment lines included
billed as (
    select
        allocations.org_id,
        allocations.app_id,
        lines.region_code,
        lines.product,
        case when lines.product = 'machine_runtime' then lines.preset_code end as preset_code,
        sum(allocations.amount_cents) as cents
    from applied
    inner join invoice_lines as lines
        on lines.org_id = applied.org_id and lines.invoice_id = applied.invoice_id
    inner join invoice_allocations as allocations
        on allocations.org_id = lines.org_id
        and allocations.invoice_id = lines.invoice_id
        and allocations.line_no = lines.line_no
    group by 1, 2, 3, 4, 5
),

-- the month's rated amounts per day and meter row, which the meter rows keep beside the cents
-- (their per-resource rows summed); rows of earlier figures (nothing consumed) are not usage
used as (
    select
        daily.org_id, daily.usage_date, daily.app_id, daily.region_code, daily.preset_code,
        daily.product, daily.rated_amount_precise as amount_precise
    from rollup_usage_daily as daily
    inner join applied on applied.org_id = daily.org_id
    where daily.usage_date >= :month_date
      and daily.usage_date < :next_month_date
      and daily.resources > 0
),

matched as (
    select used.*, billed.preset_code as billed_preset_code, billed.cents
    from used
    inner join billed
        on billed.org_id = used.org_id
        and billed.app_id = used.app_id
        and billed.region_code = used.region_code
        and billed.product = used.product
        and (billed.preset_code is null or billed.preset_code = used.preset_code)
),

-- a row's proportional share of its cell's cents (their absolute value; a cell whose rows
-- rated nothing has them all on its first row)
shares as (
    select
        matched.*,
        case
            when sum(matched.amount_precise) over cell = 0
                then case when row_number() over (cell order by matched.usage_date,
                                                  matched.preset_code) = 1
                          then abs(matched.cents) else 0 end
            else abs(matched.cents) * matched.amount_precise
                 / sum(matched.amount_precise) over cell
        end as share
    from matched
    window cell as (partition by matched.org_id, matched.app_id, matched.region_code,
                    matched.product, matched.billed_preset_code)
),

floored as (
    select shares.*, floor(shares.share)::bigint as floor_cents
    from shares
),

-- the cents the floors leave over go one each to the largest fractional parts
ranked as (
    select
        floored.*,
        abs(floored.cents) - sum(floored.floor_cents) over cell as leftover_cents,
        row_number() over (cell order by floored.share - floored.floor_cents desc,
                           floored.usage_date, floored.preset_code) as remainder_rank
    from floored
    window cell as (partition by floored.org_id, floored.app_id, floored.region_code,
                    floored.product, floored.billed_preset_code)
),

spread as (
    select
        org_id, usage_date, app_id, region_code, preset_code, product,
        sign(cents)::bigint * (floor_cents + case when remainder_rank <= leftover_cents
                                                  then 1 else 0 end) as cents,
        true as has_meter_row
    from ranked
),

-- meter rows to which the invoice billed nothing
unbilled as (
    select
        used.org_id, used.usage_date, used.app_id, used.region_code, used.preset_code,
        used.product, cast(0 as bigint) as cents, true as has_meter_row
    from used
    where not exists (
        select from billed
        where billed.org_id = used.org_id
          and billed.app_id = used.app_id
          and billed.region_code = used.region_code
          and billed.product = used.product
          and (billed.preset_code is null or billed.preset_code = used.preset_code)
    )
),

first_days as (
    select org_id, min(usage_date) as usage_date
    from used
    group by 1
),

-- cells billed with no usage left in the month
unplaced as (
    select
        billed.org_id,
        coalesce(first_days.usage_date, cast(:month_date as date)) as usage_date,
        billed.app_id, billed.region_code, coalesce(billed.preset_code, '') as preset_code,
        billed.product, billed.cents, false as has_meter_row
    from billed
    left join first_days on first_days.org_id = billed.org_id
    where not exists (
        select from matched
        where matched.org_id = billed.org_id
          and matched.app_id = billed.app_id
          and matched.region_code = billed.region_code
          and matched.product = billed.product
          and matched.billed_preset_code is not distinct from billed.preset_code
    )
)

select org_id, usage_date, app_id, region_code, preset_code, product, sum(cents) as cents,
       bool_or(has_meter_row) as has_meter_row
from (
    select * from spread
    union all
    select * from unbilled
    union all
    select * from unplaced
) as placed
group by 1, 2, 3, 4, 5, 6
