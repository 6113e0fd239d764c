-- Records that the figure_orgs' month (month_date) carries their invoice's figures.
insert into month_figures (org_id, month_date, invoice_id)
select org_id, :month_date, invoice_id from figure_orgs
on conflict (org_id, month_date) do update
set invoice_id = excluded.invoice_id, applied_at = now()
