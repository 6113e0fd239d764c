-- A draft invoice for period_start for every organization of org_ids with staged lines (and
-- every one of always_org_ids), numbered FS-YYYYMM-<org id, 6 digits>; existing ones are kept.
insert into invoices (org_id, invoice_number, period_start_date)
select organizations.org_id,
       format('FS-%s-%s', to_char(cast(:period_start as date), 'YYYYMM'),
              lpad(organizations.org_id::text, 6, '0')),
       :period_start
from organizations
where organizations.org_id = any(:org_ids)
  and (organizations.org_id = any(:always_org_ids)
       or exists (select from rated_lines where rated_lines.org_id = organizations.org_id))
on conflict (org_id, period_start_date) do nothing
