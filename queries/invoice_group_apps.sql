-- The apps behind one group of an invoice's lines, dearest first: what each app's machines
-- and volumes were allocated on those lines.
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total).
-- Returns: app_id, app_name, team_id, team_name, machines, volumes, amount_cents.
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

app_resources as (
    select
        invoice_allocations.app_id,
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        sum(invoice_allocations.amount_cents) as amount_cents
    from invoice_allocations
    where invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
      and (cast(:group_by as text) = 'invoice'
           or invoice_allocations.line_no in (select group_lines.line_no from group_lines))
    group by
        invoice_allocations.app_id,
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id
),

app_amounts as (
    select
        app_id,
        count(*) filter (where resource_kind = 'machine') as machines,
        count(*) filter (where resource_kind = 'volume') as volumes,
        cast(sum(amount_cents) as bigint) as amount_cents
    from app_resources
    group by app_id
),

final as (
    select
        app_amounts.app_id,
        apps.name as app_name,
        apps.team_id,
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
