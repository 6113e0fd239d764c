-- What the verified invoices' lines allocated per group of lines, as written when they were
-- drafted (to each app: invoice_group_amounts; to each machine or volume:
-- invoice_group_resources; migration 0020), where it differs from their allocations summed
-- again (invoice_group_sums, invoice_group_resource_sums): org_id, invoice_number, line (the
-- group, e.g. 'region lhr'), resource_id (the app's id or the resource's), field ('app
-- amounts' or 'resource amounts'), stored and expected (the figures as text, null when
-- missing on that side).
with stored as (
    select verified.org_id, verified.invoice_number, 'app amounts' as field,
           amounts.group_by || ' ' || amounts.group_key as group_name,
           cast(amounts.app_id as text) as item,
           cast(row(amounts.machines, amounts.volumes, amounts.amount_cents) as text) as figures
    from verified_invoices as verified
    join invoice_group_amounts as amounts using (org_id, invoice_id)
    union all
    select verified.org_id, verified.invoice_number, 'resource amounts',
           resources.group_by || ' ' || resources.group_key, resources.resource_id,
           cast(row(resources.resource_kind, resources.app_id, resources.lines,
                    resources.amount_cents) as text)
    from verified_invoices as verified
    join invoice_group_resources as resources using (org_id, invoice_id)
),

summed as (
    select verified.org_id, verified.invoice_number, 'app amounts' as field,
           apps.group_by || ' ' || apps.group_key as group_name,
           cast(apps.app_id as text) as item,
           cast(row(apps.machines, apps.volumes, apps.amount_cents) as text) as figures
    from verified_invoices as verified
    cross join lateral invoice_group_sums(verified.org_id, verified.invoice_id) as apps
    union all
    select verified.org_id, verified.invoice_number, 'resource amounts',
           sums.group_by || ' ' || sums.group_key, sums.resource_id,
           cast(row(sums.resource_kind, sums.app_id, sums.lines, sums.amount_cents) as text)
    from verified_invoices as verified
    cross join lateral invoice_group_resource_sums(verified.org_id, verified.invoice_id)
        as sums
)

select coalesce(stored.org_id, summed.org_id) as org_id,
       coalesce(stored.invoice_number, summed.invoice_number) as invoice_number,
       coalesce(stored.group_name, summed.group_name) as line,
       coalesce(stored.item, summed.item) as resource_id,
       coalesce(stored.field, summed.field) as field,
       stored.figures as stored, summed.figures as expected
from stored
full join summed
  on summed.invoice_number = stored.invoice_number
 and summed.field = stored.field
 and summed.group_name = stored.group_name
 and summed.item = stored.item
where stored.figures is distinct from summed.figures
order by 1, 2, 5, 3, 4
