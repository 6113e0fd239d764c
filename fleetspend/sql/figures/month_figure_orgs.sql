-- The organizations among org_ids with an invoice (not void) for month_date, and its id, into
-- the temporary table figure_orgs.
create temp table figure_orgs on commit drop as
select org_id, min(invoice_id) as invoice_id
from invoices
where period_start_date = :month_date
  and org_id = any(cast(:org_ids as bigint[]))
  and status <> 'void'
group by 1
