-- One app's part of one group of an invoice's lines: its name and the cents allocated to its
-- machines and volumes on those lines (the figure its machine list must add up to).
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total), app_id.
-- Returns: app_name, amount_cents (0 when none of its resources is on those lines).
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

app_allocations as (
    select invoice_allocations.amount_cents
    from invoice_allocations
    where invoice_allocations.org_id = :org_id
      and invoice_allocations.invoice_id = :invoice_id
      and invoice_allocations.app_id = :app_id
      and (cast(:group_by as text) = 'invoice'
           or invoice_allocations.line_no in (select group_lines.line_no from group_lines))
),

final as (
    select
        apps.name as app_name,
        cast(coalesce((select sum(app_allocations.amount_cents) from app_allocations), 0)
             as bigint) as amount_cents
    from apps
    where apps.org_id = :org_id
      and apps.app_id = :app_id
)

select * from final
