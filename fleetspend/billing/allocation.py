"""Allocating a line's cents to the machines and volumes that produced it: largest remainder.

A line of ``C`` cents with precise amount ``P`` is split over its resources with precise
amounts ``p_i`` (summing to ``P``). Each resource's proportional share of the line's cents is
``s_i = C * p_i / P``. Every resource first gets ``floor(s_i)``; the ``C - sum(floor(s_i))``
cents left over (fewer than the number of resources) go one each to the resources with the
largest fractional parts ``s_i - floor(s_i)``, ties broken by resource id. So the allocations
sum to the line exactly and each is within one cent of its proportional share. A line whose
precise amount is zero allocates zero to everyone.

The SQL version runs over the staged tables of rating.py with window functions; the Python
version is the same rule for one line, used by the benchmark's pandas baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

LARGEST_REMAINDER_SQL = """
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
"""


def largest_remainder(total_cents: int, weights: Sequence[Decimal]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` (Decimals) exactly.

    Ties in the fractional parts go to the earlier weight, as the SQL version breaks them by
    resource id when the weights are given in resource id order. Billing's weights are never
    negative; a page's can be (a month whose invoice carries a downward adjustment, see
    fleetspend/figures.py), and the rule holds for them too: the shares add up to the total,
    each within a cent of its proportional one, and weights in whole cents that add up to the
    total come back as they are.
    """
    weight_total = sum(weights, Decimal(0))
    if weight_total == 0:
        return [0] * len(weights)
    shares = [total_cents * weight / weight_total for weight in weights]
    floors = [math.floor(share) for share in shares]
    leftover = total_cents - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for index in order[:leftover]:
        floors[index] += 1
    return floors
