-- What the drafts of period_start for org_ids allocated per group of lines of every grouping
-- (groupings, models.INVOICE_GROUPINGS: the check constraints of migration 0020 list the same),
-- to each machine or volume (invoice_group_resources) and to each app
-- (invoice_group_amounts; migration 0020), written once their lines are: the drill-down reads
-- these rows instead of summing the allocations. The same sums as invoice_group_resource_sums
-- and invoice_group_sums give from the stored allocations (verify compares them), taken from
-- the staged allocations being written (rated_allocations) and each resource's sums once: the
-- functions read back every allocation just written through the index, and the apps' sums
-- summed the resources' again (at ten times the large scale, load 12, 21 s of the statement's
-- 68 s). In key order, so that one group's rows lie together (a few pages to read, not one a
-- row).
with group_resources as materialized (
    select drafts.org_id, drafts.invoice_id, groupings.group_by,
           invoice_line_group_key(groupings.group_by, lines) as group_key,
           rated_allocations.resource_kind, rated_allocations.resource_id,
           rated_allocations.app_id,
           cast(count(*) as integer) as lines,
           cast(sum(rated_allocations.amount_cents) as bigint) as amount_cents
    from invoices as drafts
    join invoice_lines as lines
      on lines.org_id = drafts.org_id and lines.invoice_id = drafts.invoice_id
    join rated_allocations
      on rated_allocations.org_id = lines.org_id and rated_allocations.line_no = lines.line_no
    cross join unnest(cast(:groupings as text[])) as groupings (group_by)
    where drafts.period_start_date = :period_start
      and drafts.org_id = any(:org_ids)
      and drafts.status = 'draft'
    group by 1, 2, 3, 4, 5, 6, 7
),

resource_amounts as (
    insert into invoice_group_resources
    select * from group_resources
    order by 1, 2, 3, 4, 6
)

insert into invoice_group_amounts
select org_id, invoice_id, group_by, group_key, app_id,
       cast(count(*) filter (where resource_kind = 'machine') as integer) as machines,
       cast(count(*) filter (where resource_kind = 'volume') as integer) as volumes,
       cast(sum(amount_cents) as bigint) as amount_cents
from group_resources
group by 1, 2, 3, 4, 5
order by 1, 2, 3, 4, 5
