-- One organization's month as the pages show it (org_id, month_date to next_month_date):
-- amount_cents (the org rows' amounts rounded once), and the invoice_number and status of
-- the invoice whose figures the month carries, if any.
select
    (select cast(round(coalesce(sum(amount_precise), 0) * 100) as bigint)
     from rollup_org_daily
     where org_id = :org_id
       and usage_date >= :month_date
       and usage_date < :next_month_date) as amount_cents,
    invoices.invoice_number,
    invoices.status
from (select 1) as one
left join month_figures
    on month_figures.org_id = :org_id and month_figures.month_date = :month_date
left join invoices
    on invoices.org_id = month_figures.org_id
    and invoices.invoice_id = month_figures.invoice_id
