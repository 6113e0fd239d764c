-- The apps behind one group of an invoice's lines, dearest first: what each app's machines
-- and volumes were allocated on those lines.
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total).
-- Returns: app_id, app_name, team_name, machines, volumes, amount_cents.
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

app_amounts as (
    select
        invoice_allocations.app_id,
        count(distinct invoice_allocations.resource_id)
            filter (where invoice_allocations.resource_kind = 'machine') as machines,
        count(distinct invoice_allocations.resource_id)
            filter (where invoice_allocations.resource_kind = 'volume') as volumes,
        cast(sum(invoice_allocations.amount_cents) as bigint) as amount_cents
    from invoice_allocations
    inner join group_lines on group_lines.line_no = invoice_allocations.line_no
    where invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
    group by invoice_allocations.app_id
),

final as (
    select
        app_amounts.app_id,
        apps.name as app_name,
        teams.name as team_name,
        app_amounts.machines,
        app_amounts.volumes,
        app_amounts.amount_cents
    from app_amounts
    inner join apps on apps.org_id = :org_id and apps.app_id = app_amounts.app_id
    inner join teams on teams.org_id = :org_id and teams.team_id = apps.team_id
)

select * from final
order by amount_cents desc, app_name
