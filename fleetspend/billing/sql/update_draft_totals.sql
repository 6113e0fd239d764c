-- Each draft of period_start for org_ids totals its staged lines (no credits on a draft).
update invoices
set subtotal_cents = coalesce(line_totals.subtotal_cents, 0),
    credits_cents = 0,
    total_cents = coalesce(line_totals.subtotal_cents, 0)
from invoices as drafts
left join (
    select org_id, sum(amount_cents) as subtotal_cents
    from rated_lines
    group by org_id
) as line_totals on line_totals.org_id = drafts.org_id
where invoices.org_id = drafts.org_id
  and invoices.invoice_id = drafts.invoice_id
  and drafts.period_start_date = :period_start
  and drafts.org_id = any(:org_ids)
  and drafts.status = 'draft'
