-- The first part of one pass over hourly machine rows (rating.stage_sums): creates
-- machine_sums, per machine, size and price list (and per UTC day below month grain), the
-- meters summed. The grain's columns follow (machine_sums_by_month.sql or
-- machine_sums_by_day.sql), then the rows read (machine_sums_from_usage.sql, or
-- machine_sums_from_hours.sql for some hours only).
--
-- width_bucket(hour_at, starts_at) is the index of the price list in force (the lists are
-- contiguous, checked in Python). This gives exactly sum(rated_usage.amount_precise), by
-- construction:
-- - machine runtime and egress have a conversion of 1, so the view's per-row amount
--   consumed * unit_price is exact and linear: the rows' sum is the price times the summed
--   quantity, priced after this pass;
-- - stopped root filesystems and dedicated IPv4 are rounded to 18 decimals per row in the view,
--   which is not linear, so they are rated row by row here too (only non-zero rows), with the
--   view's expression.
create temp table machine_sums on commit drop as
select machine_usage.org_id,
       machine_usage.machine_id,
       machine_usage.preset_code,
       machine_usage.memory_mb,
       width_bucket(machine_usage.hour_at, cast(:starts_at as timestamptz[])) as period_no,
       sum(machine_usage.runtime_seconds) as runtime_seconds,
       sum(machine_usage.stopped_rootfs_gb_seconds) as rootfs_consumed,
       sum(round(machine_usage.stopped_rootfs_gb_seconds / :rootfs_conversion, 18))
           filter (where machine_usage.stopped_rootfs_gb_seconds > 0) as rootfs_quantity,
       sum(round(machine_usage.stopped_rootfs_gb_seconds
                 * (cast(:rootfs_prices as numeric[]))[
                       width_bucket(machine_usage.hour_at, cast(:starts_at as timestamptz[]))]
                 / :rootfs_conversion, 18))
           filter (where machine_usage.stopped_rootfs_gb_seconds > 0) as rootfs_amount,
       sum(machine_usage.dedicated_ipv4_seconds) as ipv4_consumed,
       sum(round(machine_usage.dedicated_ipv4_seconds / :ipv4_conversion, 18))
           filter (where machine_usage.dedicated_ipv4_seconds > 0) as ipv4_quantity,
       sum(round(machine_usage.dedicated_ipv4_seconds
                 * (cast(:ipv4_prices as numeric[]))[
                       width_bucket(machine_usage.hour_at, cast(:starts_at as timestamptz[]))]
                 / :ipv4_conversion, 18))
           filter (where machine_usage.dedicated_ipv4_seconds > 0) as ipv4_amount,
       sum(machine_usage.egress_internet_gb) as egress_internet_gb,
       sum(machine_usage.egress_private_gb) as egress_private_gb,
