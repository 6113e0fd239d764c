-- The staged lines' cents split over their resources by largest remainder: creates
-- rated_allocations from rated_resources and rated_lines, one row per line and resource with
-- its share and its whole cents.
--
-- The rule: a line of C cents with precise amount P is split over its resources with precise
-- amounts p_i (summing to P). Each resource's proportional share is s_i = C * p_i / P; every
-- resource first gets floor(s_i), and the C - sum(floor(s_i)) cents left over (fewer than the
-- resources) go one each to the largest fractional parts s_i - floor(s_i), ties broken by
-- resource id. So the allocations sum to the line exactly and each is within one cent of its
-- share. A line whose precise amount is zero allocates zero to everyone.
-- fleetspend.money.largest_remainder is the same rule for one line.
create temp table rated_allocations on commit drop as
with shares as (
    select rated_resources.org_id,
           rated_resources.line_no,
           rated_resources.resource_kind,
           rated_resources.resource_id,
           rated_resources.app_id,
           rated_resources.consumed_quantity,
           rated_resources.quantity,
           rated_resources.amount_precise,
           rated_lines.amount_cents as line_cents,
           case when rated_lines.amount_precise = 0 then 0
                else rated_lines.amount_cents * rated_resources.amount_precise
                     / rated_lines.amount_precise
           end as share
    from rated_resources
    join rated_lines
      on rated_lines.org_id = rated_resources.org_id
     and rated_lines.line_no = rated_resources.line_no
),

floored as (
    select shares.*, floor(shares.share)::bigint as floor_cents
    from shares
),

-- the cents the floors leave over, and each resource's place in line for one of them
ranked as (
    select floored.*,
           floored.line_cents
               - sum(floored.floor_cents) over (partition by floored.org_id, floored.line_no)
               as leftover_cents,
           row_number() over (
               partition by floored.org_id, floored.line_no
               order by floored.share - floored.floor_cents desc, floored.resource_id
           ) as remainder_rank
    from floored
)

select ranked.org_id,
       ranked.line_no,
       ranked.resource_kind,
       ranked.resource_id,
       ranked.app_id,
       ranked.consumed_quantity,
       ranked.quantity,
       ranked.amount_precise,
       ranked.share,
       ranked.floor_cents + case when ranked.remainder_rank <= ranked.leftover_cents
                                 then 1 else 0 end as amount_cents
from ranked
