-- Continues volume_sums.sql at month grain (invoices): no day, no last hour.
       null::date as usage_date,
       null::timestamptz as last_hour_at
