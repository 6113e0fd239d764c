-- Creates rated_lines from rated_resources: per organization and line, its key, summed
-- quantities, unit price, precise amount, cents (the rounding rule, rating.py) and
-- description.
create temp table rated_lines on commit drop as
with lines as (
    select rated_resources.org_id,
           rated_resources.line_no,
           rated_resources.product,
           rated_resources.price_list_id,
           rated_resources.region_code,
           rated_resources.preset_code,
           rated_resources.memory_mb,
           rated_resources.egress_group,
           rated_resources.unit_price,
           rated_resources.consumed_unit,
           rated_resources.pricing_unit,
           rated_resources.consumed_per_pricing_unit,
           sum(rated_resources.consumed_quantity) as consumed_quantity
    from rated_resources
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)

select lines.org_id, lines.line_no, lines.product, lines.price_list_id, lines.region_code,
       lines.preset_code, lines.memory_mb, lines.egress_group, lines.unit_price,
       lines.consumed_unit, lines.pricing_unit, lines.consumed_quantity,
       round(lines.consumed_quantity / lines.consumed_per_pricing_unit, 18) as quantity,
       round(lines.consumed_quantity * lines.unit_price / lines.consumed_per_pricing_unit, 18)
           as amount_precise,
       -- the rounding rule: the line's summed quantity times its unit price, rounded once,
       -- half up, to whole cents; in integers, so an exact half cent is never a hair short
       div(lines.consumed_quantity * lines.unit_price * 200 + lines.consumed_per_pricing_unit,
           2 * lines.consumed_per_pricing_unit)::bigint as amount_cents,
       case
           when lines.product = 'machine_runtime'
               then format('%s %s MB in %s', lines.preset_code, lines.memory_mb,
                           lines.region_code)
           when lines.product like 'egress%'
               then format('%s from %s (%s)', products.name, lines.region_code,
                           egress_groups.name)
           else format('%s in %s', products.name, lines.region_code)
       end || format(', %s', price_lists.name) as description,
       null::date as adjusts_period_date
from lines
join products on products.product = lines.product
join price_lists on price_lists.price_list_id = lines.price_list_id
left join egress_groups on egress_groups.egress_group = lines.egress_group
