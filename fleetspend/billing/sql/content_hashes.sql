-- The canonical text of each invoice in the temporary table hashed_invoices, hashed: creates
-- content_hashes (org_id, invoice_id, content_hash). The text is the invoice's number and
-- subtotal, then every line with its key, quantities and amounts, each followed by its
-- allocations in resource order. One correlated subquery per invoice reads its lines and
-- allocations by primary key prefix, whatever the statistics of freshly written rows say.
-- Finalizing hashes the drafts it seals; verification recomputes the hashes of stored invoices.
create temp table content_hashes on commit drop as

select hashed_invoices.org_id, hashed_invoices.invoice_id,
       encode(sha256(convert_to(concat_ws(E'\n',
           hashed_invoices.invoice_number, hashed_invoices.subtotal_cents,
           (select string_agg(parts.body, E'\n'
                              order by parts.line_no, parts.is_allocation, parts.resource_id)
            from (
                select invoice_lines.line_no, false as is_allocation, '' as resource_id,
                       concat_ws('|', invoice_lines.line_no, invoice_lines.product,
                                 invoice_lines.price_list_id, invoice_lines.region_code,
                                 invoice_lines.preset_code, invoice_lines.memory_mb,
                                 invoice_lines.egress_group, invoice_lines.consumed_quantity,
                                 invoice_lines.quantity, invoice_lines.unit_price,
                                 invoice_lines.amount_precise, invoice_lines.amount_cents,
                                 invoice_lines.adjusts_period_date)
                           as body
                from invoice_lines
                where invoice_lines.org_id = hashed_invoices.org_id
                  and invoice_lines.invoice_id = hashed_invoices.invoice_id
                union all
                select invoice_allocations.line_no, true, invoice_allocations.resource_id,
                       concat_ws(':', invoice_allocations.resource_kind,
                                 invoice_allocations.resource_id, invoice_allocations.app_id,
                                 invoice_allocations.consumed_quantity,
                                 invoice_allocations.quantity,
                                 invoice_allocations.amount_precise,
                                 invoice_allocations.amount_cents)
                from invoice_allocations
                where invoice_allocations.org_id = hashed_invoices.org_id
                  and invoice_allocations.invoice_id = hashed_invoices.invoice_id
            ) as parts)
       ), 'UTF8')), 'hex') as content_hash
from hashed_invoices
