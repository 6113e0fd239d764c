-- What the database holds that no seed run created: organizations and sealed invoices that
-- are not in the seeded_dataset record (all of them when there is none): organizations,
-- sealed_invoices.
with recorded as (
    select coalesce((select org_ids from seeded_dataset), '{}') as org_ids,
           coalesce((select sealed_invoice_ids from seeded_dataset), '{}') as invoice_ids
)
select (select count(*) from organizations
        where not organizations.org_id = any(recorded.org_ids)) as organizations,
       (select count(*) from invoices
        where invoices.status <> 'draft'
          and not invoices.invoice_id = any(recorded.invoice_ids)) as sealed_invoices
from recorded
