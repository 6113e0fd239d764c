-- One page of the machines and volumes behind one group of an invoice's lines (optionally of
-- one app), searched by id prefix or app name and sorted; every row also carries how many
-- resources match and their cents in total, so a page can check the whole against its parent.
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total); app_id (null:
-- every app); id_prefix and app_pattern (LIKE patterns with \ as escape, null: no search);
-- sort ('amount': dearest first, 'resource': by id, 'app': by app name); page_size;
-- page_offset.
-- Returns: position, resource_kind, resource_id, app_id, app_name, region_code, preset_code,
-- memory_mb, size_gb, lines, amount_cents, match_count, match_cents.
with group_lines as (
    select line_no
    from invoice_lines
    where org_id = :org_id
      and invoice_id = :invoice_id
      and case cast(:group_by as text)
          when 'product' then product = :group_key
          when 'region' then coalesce(region_code, '-') = :group_key
          when 'vm_size' then coalesce(preset_code, '-') = :group_key
          when 'line' then cast(line_no as text) = :group_key
      end
),

-- the whole invoice needs no lines at all; a group's lines are a hashed lookup, whatever the
-- planner's statistics say about a just-written invoice
resource_amounts as (
    select
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        invoice_allocations.app_id,
        count(*) as lines,
        cast(sum(invoice_allocations.amount_cents) as bigint) as amount_cents
    from invoice_allocations
    where invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
      and (cast(:group_by as text) = 'invoice'
           or invoice_allocations.line_no in (select group_lines.line_no from group_lines))
      and (cast(:app_id as bigint) is null or invoice_allocations.app_id = :app_id)
      -- the search, before summing: a machine id prefix, or an app whose name matches
      and (cast(:id_prefix as text) is null
           or invoice_allocations.resource_id like :id_prefix escape '\'
           or invoice_allocations.app_id in (
               select apps.app_id from apps
               where apps.org_id = :org_id and apps.name ilike :app_pattern escape '\'
           ))
    group by
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        invoice_allocations.app_id
),

matches as (
    select
        resource_amounts.*,
        case when :sort = 'amount' then resource_amounts.amount_cents end as amount_order,
        case when :sort = 'app' then apps.name end as app_order
    from resource_amounts
    inner join apps on apps.org_id = :org_id and apps.app_id = resource_amounts.app_id
),

totals as (
    select
        count(*) as match_count,
        cast(coalesce(sum(amount_cents), 0) as bigint) as match_cents
    from matches
),

-- the page's rows only: a top-N sort, then names and sizes for those rows alone
page as (
    select matches.*
    from matches
    order by matches.amount_order desc nulls last, matches.app_order, matches.resource_id
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
