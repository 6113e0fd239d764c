-- The invoice (not void) each of the (org, month)s org_ids x month_dates has, if any: org_id,
-- month_date, status.
select invoices.org_id, invoices.period_start_date as month_date, invoices.status
from invoices
where invoices.org_id = any(cast(:org_ids as bigint[]))
  and invoices.period_start_date = any(cast(:month_dates as date[]))
  and invoices.status <> 'void'
