-- One page of the machines and volumes behind one group of an invoice's lines (optionally of
-- one app), searched by id prefix or app name and sorted; every row also carries how many
-- resources match and their cents in total, so a page can check the whole against its parent.
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total); app_id (null:
-- every app); id_prefix and app_pattern (LIKE patterns with \ as escape, null: no search);
-- sort ('amount': dearest first, 'resource': by id, 'app': by app name); page_size;
-- page_offset.
-- Returns: position, resource_kind, resource_id, app_id, app_name, region_code, preset_code,
-- memory_mb, size_gb, lines, amount_cents, match_count, match_cents.
-- Reads what each resource was allocated on the group's lines as written when the invoice was
-- drafted (invoice_group_resources, migration 0020; billing verify proves it equals the
-- allocations): one row per resource, not one per allocation. Dearest first, without a search,
-- the page is read in that order from an index (migration 0021) and the totals from what
-- drafting wrote per app (invoice_group_amounts), so page 1 reads 50 rows, not the group's
-- 10,000.
with resource_amounts as not materialized (
    select
        invoice_group_resources.resource_kind,
        invoice_group_resources.resource_id,
        invoice_group_resources.app_id,
        invoice_group_resources.lines,
        invoice_group_resources.amount_cents
    from invoice_group_resources
    where invoice_group_resources.org_id = :org_id
      and invoice_group_resources.invoice_id = :invoice_id
      and invoice_group_resources.group_by = :group_by
      and invoice_group_resources.group_key = :group_key
      and (cast(:app_id as bigint) is null or invoice_group_resources.app_id = :app_id)
      -- the search: a machine id prefix, or an app whose name matches
      and (cast(:id_prefix as text) is null
           or invoice_group_resources.resource_id like :id_prefix escape '\'
           or invoice_group_resources.app_id in (
               select apps.app_id from apps
               where apps.org_id = :org_id and apps.name ilike :app_pattern escape '\'
           ))
),

-- counted once; without a search, every resource of the group (or of its app) matches, and
-- drafting counted them per app: the same count and cents from a few hundred rows
totals as materialized (
    select
        cast(coalesce(sum(invoice_group_amounts.machines + invoice_group_amounts.volumes), 0)
            as bigint) as match_count,
        cast(coalesce(sum(invoice_group_amounts.amount_cents), 0) as bigint) as match_cents
    from invoice_group_amounts
    where invoice_group_amounts.org_id = :org_id
      and invoice_group_amounts.invoice_id = :invoice_id
      and invoice_group_amounts.group_by = :group_by
      and invoice_group_amounts.group_key = :group_key
      and (cast(:app_id as bigint) is null or invoice_group_amounts.app_id = :app_id)
    -- one row of the two: an aggregate keeps its row whatever WHERE says, not HAVING
    having cast(:id_prefix as text) is null
    union all
    select
        count(*),
        cast(coalesce(sum(resource_amounts.amount_cents), 0) as bigint)
    from resource_amounts
    having cast(:id_prefix as text) is not null
),

-- the page's rows only, in the sort's order (dearest first: the index's, read no further than
-- the page), then names and sizes for those rows alone
page as (
    select
        resource_amounts.*,
        case when :sort = 'amount' then resource_amounts.amount_cents end as amount_order,
        case when :sort = 'app' then apps.name end as app_order
    from resource_amounts
    -- names only to sort by: otherwise no join at all (its condition is false)
    left join apps
        on :sort = 'app'
        and apps.org_id = :org_id
        and apps.app_id = resource_amounts.app_id
    order by amount_order desc nulls last, app_order, resource_amounts.resource_id
    limit :page_size
    offset :page_offset
),

final as (
    select
        cast(:page_offset as bigint) + row_number() over (
            order by page.amount_order desc nulls last, page.app_order, page.resource_id
        ) as position,
        page.resource_kind,
        page.resource_id,
        page.app_id,
        apps.name as app_name,
        coalesce(machines.region_code, volumes.region_code) as region_code,
        machines.preset_code,
        machines.memory_mb,
        volumes.size_gb,
        page.lines,
        page.amount_cents,
        totals.match_count,
        totals.match_cents
    from page
    cross join totals
    inner join apps on apps.org_id = :org_id and apps.app_id = page.app_id
    left join machines
        on page.resource_kind = 'machine'
        and machines.org_id = :org_id
        and machines.machine_id = page.resource_id
    left join volumes
        on page.resource_kind = 'volume'
        and volumes.org_id = :org_id
        and volumes.volume_id = page.resource_id
)

select * from final
order by position
