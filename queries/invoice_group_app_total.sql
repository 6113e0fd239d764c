-- One app's part of one group of an invoice's lines: its name and the cents allocated to its
-- machines and volumes on those lines (the figure its machine list must add up to), as
-- written when the invoice was drafted (invoice_group_amounts).
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total), app_id.
-- Returns: app_name, amount_cents (0 when none of its resources is on those lines).
select
    apps.name as app_name,
    coalesce(invoice_group_amounts.amount_cents, 0) as amount_cents
from apps
left join invoice_group_amounts
    on invoice_group_amounts.org_id = apps.org_id
    and invoice_group_amounts.invoice_id = :invoice_id
    and invoice_group_amounts.group_by = :group_by
    and invoice_group_amounts.group_key = :group_key
    and invoice_group_amounts.app_id = apps.app_id
where apps.org_id = :org_id
  and apps.app_id = :app_id
