-- Creates billed_lines: what was billed so far for the carried month adjusted, per line of its
-- organizations in carried_periods: the month's own sealed invoice (sealed_statuses) and the
-- sealed adjustment lines for it, each with its line key (invoice_line_key, migration 0023,
-- as every statement that pairs lines reads it).
create temp table billed_lines on commit drop as
select invoice_lines.org_id, invoice_lines.invoice_id, invoice_lines.line_no,
       invoice_line_key(invoice_lines.product, invoice_lines.price_list_id,
                        invoice_lines.region_code, invoice_lines.preset_code,
                        invoice_lines.memory_mb, invoice_lines.egress_group) as line_key,
       invoice_lines.product, invoice_lines.price_list_id, invoice_lines.region_code,
       invoice_lines.preset_code, invoice_lines.memory_mb, invoice_lines.egress_group,
       invoice_lines.unit_price, invoice_lines.consumed_unit, invoice_lines.pricing_unit,
       invoice_lines.description, invoice_lines.consumed_quantity, invoice_lines.quantity,
       invoice_lines.amount_precise, invoice_lines.amount_cents
from invoice_lines
join invoices using (org_id, invoice_id)
join carried_periods
  on carried_periods.org_id = invoice_lines.org_id
 and carried_periods.period_start_date = :adjusted
where invoices.status = any(:sealed_statuses)
  and ((invoices.period_start_date = :adjusted and invoice_lines.adjusts_period_date is null)
       or invoice_lines.adjusts_period_date = :adjusted)
