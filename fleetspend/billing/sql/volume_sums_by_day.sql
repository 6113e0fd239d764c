-- Continues volume_sums.sql per UTC day (the rollups), with the last hour the volume was used.
       cast(volume_usage.hour_at at time zone 'UTC' as date) as usage_date,
       max(volume_usage.hour_at) filter (where volume_usage.gb_hours > 0) as last_hour_at
