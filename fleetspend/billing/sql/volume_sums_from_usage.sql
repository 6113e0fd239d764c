-- Ends volume_sums.sql: every non-zero volume row of the period's hours for org_ids.
from volume_usage
where volume_usage.hour_at >= :period_start_at
  and volume_usage.hour_at < :period_end_at
  and volume_usage.org_id = any(:org_ids)
  and volume_usage.gb_hours > 0
group by 1, 2, 3, usage_date
