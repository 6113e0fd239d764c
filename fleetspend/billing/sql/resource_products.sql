-- Common table expressions, without their "with": the staged sums (rating.stage_sums)
-- priced, ending in resource_products, one row per resource, size, price list, grain and
-- product, with its quantities, unit price and precise amount. A statement that reads
-- resource_products puts these after its "with" (create_rated_resources.sql, the rollups).
-- each machine's sums with its app, region and price list first (materialized: a few
-- thousand rows), so the rates below join on all three keys at once
placed_machines as materialized (
    select machine_sums.*, machines.app_id, machines.region_code, regions.egress_group,
           (cast(:price_list_ids as smallint[]))[machine_sums.period_no] as price_list_id
    from machine_sums
    join machines
      on machines.org_id = machine_sums.org_id
     and machines.machine_id = machine_sums.machine_id
    join regions on regions.region_code = machines.region_code
),

machine_products as (
    select placed_machines.org_id, 'machine'::text as resource_kind,
           placed_machines.machine_id as resource_id, placed_machines.app_id,
           placed_machines.region_code, placed_machines.egress_group,
           placed_machines.preset_code, placed_machines.memory_mb,
           placed_machines.price_list_id, placed_machines.usage_date,
           meter.product, meter.consumed_quantity, meter.quantity, meter.unit_price,
           meter.amount_precise, meter.last_hour_at
    from placed_machines
    join period_price_book as price_book
      on price_book.price_list_id = placed_machines.price_list_id
     and price_book.egress_group = placed_machines.egress_group
    join period_runtime_rates as runtime_rates
      on runtime_rates.price_list_id = placed_machines.price_list_id
     and runtime_rates.region_code = placed_machines.region_code
     and runtime_rates.preset_code = placed_machines.preset_code
    cross join lateral (
        select runtime_unit_price(runtime_rates.base_rate, runtime_rates.rate_per_256mb,
                                  runtime_rates.included_memory_mb, placed_machines.memory_mb)
               as runtime_price
    ) as runtime
    cross join lateral (values
        ('machine_runtime', placed_machines.runtime_seconds::numeric,
         placed_machines.runtime_seconds::numeric, runtime.runtime_price,
         placed_machines.runtime_seconds * runtime.runtime_price,
         placed_machines.runtime_last_at),
        ('stopped_rootfs', placed_machines.rootfs_consumed, placed_machines.rootfs_quantity,
         price_book.stopped_rootfs, placed_machines.rootfs_amount,
         placed_machines.rootfs_last_at),
        ('dedicated_ipv4', placed_machines.ipv4_consumed::numeric,
         placed_machines.ipv4_quantity, price_book.dedicated_ipv4,
         placed_machines.ipv4_amount, placed_machines.ipv4_last_at),
        ('egress_internet', placed_machines.egress_internet_gb,
         placed_machines.egress_internet_gb, price_book.egress_internet,
         placed_machines.egress_internet_gb * price_book.egress_internet,
         placed_machines.egress_internet_last_at),
        ('egress_private', placed_machines.egress_private_gb,
         placed_machines.egress_private_gb, price_book.egress_private,
         placed_machines.egress_private_gb * price_book.egress_private,
         placed_machines.egress_private_last_at)
    ) as meter (product, consumed_quantity, quantity, unit_price, amount_precise, last_hour_at)
    where meter.consumed_quantity > 0
),

volume_products as (
    select volume_sums.org_id, 'volume'::text as resource_kind,
           volume_sums.volume_id as resource_id, volumes.app_id,
           volumes.region_code, regions.egress_group,
           null::text as preset_code, null::integer as memory_mb, price_book.price_list_id,
           volume_sums.usage_date, 'volume'::text as product, volume_sums.consumed_quantity,
           volume_sums.quantity, price_book.volume as unit_price, volume_sums.amount_precise,
           volume_sums.last_hour_at
    from volume_sums
    join volumes
      on volumes.org_id = volume_sums.org_id
     and volumes.volume_id = volume_sums.volume_id
    join regions on regions.region_code = volumes.region_code
    join period_price_book as price_book
      on price_book.price_list_id = (cast(:price_list_ids as smallint[]))[volume_sums.period_no]
     and price_book.egress_group = regions.egress_group
),

resource_products as (
    select * from machine_products
    union all
    select * from volume_products
)
