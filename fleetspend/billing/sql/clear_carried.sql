-- Forgets the late-usage notes that the just-sealed invoices of org_ids carried
-- (carried_periods, in the same transaction).
delete from late_usage_periods
using carried_periods
where late_usage_periods.org_id = carried_periods.org_id
  and late_usage_periods.period_start_date = carried_periods.period_start_date
  and late_usage_periods.org_id = any(:org_ids)
