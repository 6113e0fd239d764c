-- Continues machine_sums.sql at month grain (invoices): one row per machine, size and price
-- list; the day and the last hours are not needed (they cost a second of the draft at the
-- large scale).
       null::date as usage_date,
       null::timestamptz as runtime_last_at,
       null::timestamptz as rootfs_last_at,
       null::timestamptz as ipv4_last_at,
       null::timestamptz as egress_internet_last_at,
       null::timestamptz as egress_private_last_at
