-- The invoice number of an organization's month (slug, month), if it has an invoice.
select invoices.invoice_number
from invoices
join organizations using (org_id)
where organizations.slug = :slug and invoices.period_start_date = :month
