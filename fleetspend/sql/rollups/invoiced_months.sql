-- Every (org, month) with an invoice or with an invoice's figures, for a rebuild to re-apply:
-- org_id, month date.
select org_id, period_start_date from invoices where status <> 'void'
union
select org_id, month_date from month_figures
