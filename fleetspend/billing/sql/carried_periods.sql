-- The months each organization's draft of period_start carries: noted in late_usage_periods,
-- earlier, and with no other draft in between (that one carries them). Creates carried_periods
-- (org_id, period_start_date) for org_ids.
create temp table carried_periods on commit drop as
select late_usage_periods.org_id, late_usage_periods.period_start_date
from late_usage_periods
where late_usage_periods.org_id = any(:org_ids)
  and late_usage_periods.period_start_date < :period_start
  and not exists (
      select from invoices as drafts
      where drafts.org_id = late_usage_periods.org_id
        and drafts.status = 'draft'
        and drafts.period_start_date > late_usage_periods.period_start_date
        and drafts.period_start_date < :period_start
  )
