-- The price lists in force during [period_start_at, period_end_at), in order, with the prices
-- of the products rated row by row (rating.stage_sums; the same in every egress group: a check
-- constraint on prices allows per-group prices for egress only): price_list_id,
-- effective_from, effective_until, stopped_rootfs, dedicated_ipv4, volume.
select price_lists.price_list_id,
       price_lists.effective_from,
       price_lists.effective_until,
       max(prices.unit_price) filter (where prices.component = 'stopped_rootfs')
           as stopped_rootfs,
       max(prices.unit_price) filter (where prices.component = 'dedicated_ipv4')
           as dedicated_ipv4,
       max(prices.unit_price) filter (where prices.component = 'volume') as volume
from price_lists
join prices on prices.price_list_id = price_lists.price_list_id
where price_lists.effective_from < :period_end_at
  and (price_lists.effective_until is null or price_lists.effective_until > :period_start_at)
group by price_lists.price_list_id
order by price_lists.effective_from
