-- One pass over the hourly machine rows of one price list's hours, [from_at, until_at)
-- (rating.stage_sums), after create_machine_sums.sql or insert_machine_sums.sql: per machine
-- and size (and per UTC day below month grain), the meters summed, as price list period_no (its
-- place in price_list_ids). The grain's columns follow (machine_sums_by_month.sql or
-- machine_sums_by_day.sql), then the rows read (machine_sums_from_usage.sql, or
-- machine_sums_from_hours.sql for some hours only).
--
-- One pass per price list rather than the list looked up per row: the group key is then the
-- four columns the extended statistics of migration 0022 count, so the planner sizes the
-- aggregation for the groups there are. Decimal meters are summed over their non-zero rows
-- only (most hours have no stopped root filesystem, most no private egress). This gives
-- exactly sum(rated_usage.amount_precise), by construction:
-- - machine runtime and egress have a conversion of 1, so the view's per-row amount
--   consumed * unit_price is exact and linear: the rows' sum is the price times the summed
--   quantity, priced after this pass;
-- - stopped root filesystems and dedicated IPv4 are rounded to 18 decimals per row in the view,
--   which is not linear, so they are rated row by row here too (only non-zero rows), with the
--   view's expression.
select machine_usage.org_id,
       machine_usage.machine_id,
       machine_usage.preset_code,
       machine_usage.memory_mb,
       cast(:period_no as integer) as period_no,
       sum(machine_usage.runtime_seconds) as runtime_seconds,
       coalesce(sum(machine_usage.stopped_rootfs_gb_seconds)
                    filter (where machine_usage.stopped_rootfs_gb_seconds > 0), 0)
           as rootfs_consumed,
       sum(round(machine_usage.stopped_rootfs_gb_seconds / :rootfs_conversion, 18))
           filter (where machine_usage.stopped_rootfs_gb_seconds > 0) as rootfs_quantity,
       sum(round(machine_usage.stopped_rootfs_gb_seconds
                 * cast(:rootfs_price as numeric) / :rootfs_conversion, 18))
           filter (where machine_usage.stopped_rootfs_gb_seconds > 0) as rootfs_amount,
       sum(machine_usage.dedicated_ipv4_seconds) as ipv4_consumed,
       sum(round(machine_usage.dedicated_ipv4_seconds / :ipv4_conversion, 18))
           filter (where machine_usage.dedicated_ipv4_seconds > 0) as ipv4_quantity,
       sum(round(machine_usage.dedicated_ipv4_seconds
                 * cast(:ipv4_price as numeric) / :ipv4_conversion, 18))
           filter (where machine_usage.dedicated_ipv4_seconds > 0) as ipv4_amount,
       coalesce(sum(machine_usage.egress_internet_gb)
                    filter (where machine_usage.egress_internet_gb > 0), 0) as egress_internet_gb,
       coalesce(sum(machine_usage.egress_private_gb)
                    filter (where machine_usage.egress_private_gb > 0), 0) as egress_private_gb,
