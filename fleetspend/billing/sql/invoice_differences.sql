-- The invoice-level differences of the verified invoices: subtotal against its lines and the
-- re-rating, credits against credit notes, total, the content hash of a sealed invoice
-- (content_hashes, recomputed from the stored lines), and organizations with usage but no
-- invoice: org_id, invoice_number, field, stored, expected, carried_by.
with figures as (
    select verified_invoices.*,
           (select coalesce(sum(amount_cents), 0) from invoice_lines
            where invoice_lines.org_id = verified_invoices.org_id
              and invoice_lines.invoice_id = verified_invoices.invoice_id) as lines_cents,
           (select coalesce(sum(amount_cents), 0) from credit_notes
            where credit_notes.org_id = verified_invoices.org_id
              and credit_notes.invoice_id = verified_invoices.invoice_id) as notes_cents,
           (select coalesce(sum(amount_cents), 0) from rated_lines
            where rated_lines.org_id = verified_invoices.org_id)
           + (select coalesce(sum(amount_cents), 0) from invoice_lines
              where invoice_lines.org_id = verified_invoices.org_id
                and invoice_lines.invoice_id = verified_invoices.invoice_id
                and invoice_lines.adjusts_period_date is not null) as rated_cents,
           content_hashes.content_hash as recomputed_hash,
           carried.amount_cents as carried_cents,
           carried.carried_by
    from verified_invoices
    left join content_hashes using (org_id, invoice_id)
    -- the month's adjustment lines on later invoices (late usage carried)
    left join (
        select invoice_lines.org_id, sum(invoice_lines.amount_cents) as amount_cents,
               string_agg(distinct invoices.invoice_number, ', ') as carried_by
        from invoice_lines
        join invoices using (org_id, invoice_id)
        where invoice_lines.adjusts_period_date = :period_start and invoices.status <> 'void'
        group by 1
    ) as carried using (org_id)
)

select figures.org_id, figures.invoice_number, compared.field, compared.stored,
       compared.expected, compared.carried_by
from figures
cross join lateral (values
    ('subtotal_cents (sum of its lines)', figures.subtotal_cents::text,
     figures.lines_cents::text, null),
    ('subtotal_cents (re-rated)', figures.subtotal_cents::text, figures.rated_cents::text,
     case when figures.subtotal_cents + figures.carried_cents = figures.rated_cents
          then figures.carried_by end),
    ('credits_cents (sum of credit notes)', figures.credits_cents::text,
     figures.notes_cents::text, null),
    ('total_cents (subtotal - credits)', figures.total_cents::text,
     (figures.subtotal_cents - figures.credits_cents)::text, null),
    ('content_hash', figures.content_hash,
     case when figures.status = 'draft' then figures.content_hash
          else figures.recomputed_hash end, null)
) as compared (field, stored, expected, carried_by)
where compared.stored is distinct from compared.expected

union all

select unbilled.org_id, null, 'invoice', 'missing', 'present', null
from (select distinct org_id from rated_lines) as unbilled
where not exists (
    select from invoices
    where invoices.org_id = unbilled.org_id and invoices.period_start_date = :period_start
)
order by 1, 3
