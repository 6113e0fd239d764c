-- Ends volume_sums.sql: every non-zero volume row of the price list's hours for org_ids.
from volume_usage
where volume_usage.hour_at >= :from_at
  and volume_usage.hour_at < :until_at
  and volume_usage.org_id = any(:org_ids)
  and volume_usage.gb_hours > 0
group by 1, 2, 3, usage_date
