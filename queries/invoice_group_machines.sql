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
          when 'invoice' then true
          when 'product' then product = :group_key
          when 'region' then coalesce(region_code, '-') = :group_key
          when 'vm_size' then coalesce(preset_code, '-') = :group_key
          when 'line' then cast(line_no as text) = :group_key
      end
),

resource_amounts as (
    select
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        invoice_allocations.app_id,
        count(*) as lines,
        cast(sum(invoice_allocations.amount_cents) as bigint) as amount_cents
    from invoice_allocations
    inner join group_lines on group_lines.line_no = invoice_allocations.line_no
    where invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
      and (cast(:app_id as bigint) is null or invoice_allocations.app_id = :app_id)
    group by
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        invoice_allocations.app_id
),

matches as (
    select
        resource_amounts.*,
        apps.name as app_name
    from resource_amounts
    inner join apps on apps.org_id = :org_id and apps.app_id = resource_amounts.app_id
    where cast(:id_prefix as text) is null
       or resource_amounts.resource_id like :id_prefix escape '\'
       or apps.name ilike :app_pattern escape '\'
),

-- the page's rows only; the window totals are taken over every match before the limit
page as (
    select
        matches.*,
        row_number() over (
            order by
                case when :sort = 'amount' then matches.amount_cents end desc,
                case when :sort = 'app' then matches.app_name end,
                matches.resource_id
        ) as position,
        count(*) over () as match_count,
        cast(sum(matches.amount_cents) over () as bigint) as match_cents
    from matches
    order by position
    limit :page_size
    offset :page_offset
),

final as (
    select
        page.position,
        page.resource_kind,
        page.resource_id,
        page.app_id,
        page.app_name,
        coalesce(machines.region_code, volumes.region_code) as region_code,
        machines.preset_code,
        machines.memory_mb,
        volumes.size_gb,
        page.lines,
        page.amount_cents,
        page.match_count,
        page.match_cents
    from page
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
