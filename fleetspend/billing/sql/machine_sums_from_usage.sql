-- Ends machine_sums.sql: every machine row of the price list's hours for org_ids.
from machine_usage
where machine_usage.hour_at >= :from_at
  and machine_usage.hour_at < :until_at
  and machine_usage.org_id = any(:org_ids)
group by 1, 2, 3, 4, 5, usage_date
