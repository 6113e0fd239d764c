-- The price book versions behind one invoice: every price list in force during its month (UTC)
-- or pricing one of its lines, with how many lines and cents each priced.
-- Params: org_id, invoice_id.
-- Returns: price_list_id, name, effective_from (UTC), effective_until (UTC, null while open),
-- lines_priced, amount_cents.
with invoice as (
    select
        period_start_date::timestamp at time zone 'UTC' as start_at,
        (period_start_date + interval '1 month') at time zone 'UTC' as end_at
    from invoices
    where org_id = :org_id
      and invoice_id = :invoice_id
),

priced as (
    select
        price_list_id,
        count(*) as lines_priced,
        sum(amount_cents) as amount_cents
    from invoice_lines
    where org_id = :org_id
      and invoice_id = :invoice_id
    group by price_list_id
),

final as (
    select
        price_lists.price_list_id,
        price_lists.name,
        price_lists.effective_from,
        price_lists.effective_until,
        coalesce(priced.lines_priced, 0) as lines_priced,
        coalesce(priced.amount_cents, 0) as amount_cents
    from price_lists
    inner join invoice on true
    left join priced on priced.price_list_id = price_lists.price_list_id
    where priced.price_list_id is not null
       or (price_lists.effective_from < invoice.end_at
           and (price_lists.effective_until is null
                or price_lists.effective_until > invoice.start_at))
)

select * from final
order by effective_from
