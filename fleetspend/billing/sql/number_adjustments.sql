-- The adjustment lines that change anything, numbered after the month's own staged lines
-- (in product_order within each adjusted month): creates numbered_adjustments.
create temp table numbered_adjustments on commit drop as
with changed as (
    select adjustment_lines.*
    from adjustment_lines
    where adjustment_lines.consumed_quantity <> 0
       or adjustment_lines.amount_cents <> 0
       or exists (select from adjustment_allocations
                  where adjustment_allocations.org_id = adjustment_lines.org_id
                    and adjustment_allocations.adjusts_period_date
                        = adjustment_lines.adjusts_period_date
                    and adjustment_allocations.line_key = adjustment_lines.line_key
                    and (adjustment_allocations.consumed_quantity <> 0
                         or adjustment_allocations.amount_cents <> 0))
)

select changed.*,
       coalesce((select max(rated_lines.line_no) from rated_lines
                 where rated_lines.org_id = changed.org_id), 0)
       + dense_rank() over (
           partition by changed.org_id
           order by changed.adjusts_period_date,
                    array_position(cast(:product_order as text[]), changed.product),
                    changed.line_key
       ) as line_no
from changed
