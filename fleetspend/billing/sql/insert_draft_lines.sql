-- The staged lines (rated_lines) written to the drafts of period_start.
insert into invoice_lines (
    org_id, invoice_id, line_no, product, price_list_id, region_code, preset_code, memory_mb,
    egress_group, description, consumed_quantity, consumed_unit, quantity, pricing_unit,
    unit_price, amount_precise, amount_cents, adjusts_period_date
)
select invoices.org_id, invoices.invoice_id, rated_lines.line_no, rated_lines.product,
       rated_lines.price_list_id, rated_lines.region_code, rated_lines.preset_code,
       rated_lines.memory_mb, rated_lines.egress_group, rated_lines.description,
       rated_lines.consumed_quantity, rated_lines.consumed_unit, rated_lines.quantity,
       rated_lines.pricing_unit, rated_lines.unit_price, rated_lines.amount_precise,
       rated_lines.amount_cents, rated_lines.adjusts_period_date
from rated_lines
join invoices
  on invoices.org_id = rated_lines.org_id
 and invoices.period_start_date = :period_start
 and invoices.status = 'draft'
