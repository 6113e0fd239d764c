-- The FOCUS charges of one organization's finalized (or paid) invoices for months starting in
-- [start_month, end_month), and of the drafts whose cents the pages show (month_figures: the
-- upcoming invoice while it is current): one row per invoice line and resource (its
-- allocation), and one per credit note. Params: org_id; start_month, end_month (first days
-- of months); sealed_statuses (invoice_status.sealed_params()).
-- Returns: invoice_id, invoice_number, status, period_start_date, charge_category ('Usage' or
-- 'Credit'), line_no, product, product_name, description, region_code, region_city,
-- preset_code, price_list_id, resource_kind, resource_id, app_id, app_name,
-- consumed_quantity, consumed_unit, pricing_quantity, pricing_unit, unit_price,
-- list_cost (unrounded), billed_cents (the allocation's cents; negative for credits),
-- adjusts_period_date (an adjustment line's month: late usage corrected on this invoice).
with invoiced as (
    select invoice_id, invoice_number, status, period_start_date
    from invoices
    where org_id = :org_id
      and period_start_date >= :start_month
      and period_start_date < :end_month
      and (
          status = any(:sealed_statuses)
          or invoice_id in (
              select month_figures.invoice_id from month_figures
              where month_figures.org_id = :org_id
          )
      )
),

usage_charges as (
    select
        invoiced.invoice_id,
        invoiced.invoice_number,
        invoiced.status,
        invoiced.period_start_date,
        'Usage' as charge_category,
        invoice_lines.line_no,
        invoice_lines.product,
        products.name as product_name,
        invoice_lines.description,
        invoice_lines.region_code,
        regions.city as region_city,
        invoice_lines.preset_code,
        invoice_lines.price_list_id,
        invoice_allocations.resource_kind,
        invoice_allocations.resource_id,
        invoice_allocations.app_id,
        apps.name as app_name,
        invoice_allocations.consumed_quantity,
        invoice_lines.consumed_unit,
        invoice_allocations.quantity as pricing_quantity,
        invoice_lines.pricing_unit,
        invoice_lines.unit_price,
        invoice_allocations.amount_precise as list_cost,
        invoice_allocations.amount_cents as billed_cents,
        invoice_lines.adjusts_period_date
    from invoiced
    inner join invoice_lines
        on invoice_lines.org_id = :org_id
        and invoice_lines.invoice_id = invoiced.invoice_id
    inner join invoice_allocations
        on invoice_allocations.org_id = :org_id
        and invoice_allocations.invoice_id = invoice_lines.invoice_id
        and invoice_allocations.line_no = invoice_lines.line_no
    inner join products on products.product = invoice_lines.product
    inner join apps
        on apps.org_id = :org_id
        and apps.app_id = invoice_allocations.app_id
    left join regions on regions.region_code = invoice_lines.region_code
),

credit_charges as (
    select
        invoiced.invoice_id,
        invoiced.invoice_number,
        invoiced.status,
        invoiced.period_start_date,
        'Credit' as charge_category,
        null::integer as line_no,
        null::text as product,
        null::text as product_name,
        'Credit note ' || credit_notes.credit_note_number || ': ' || credit_notes.reason
            as description,
        null::text as region_code,
        null::text as region_city,
        null::text as preset_code,
        null::smallint as price_list_id,
        null::text as resource_kind,
        null::text as resource_id,
        null::bigint as app_id,
        null::text as app_name,
        null::numeric as consumed_quantity,
        null::text as consumed_unit,
        null::numeric as pricing_quantity,
        null::text as pricing_unit,
        null::numeric as unit_price,
        -credit_notes.amount_cents / 100.0 as list_cost,
        -credit_notes.amount_cents as billed_cents,
        null::date as adjusts_period_date
    from invoiced
    inner join credit_notes
        on credit_notes.org_id = :org_id
        and credit_notes.invoice_id = invoiced.invoice_id
),

final as (
    select * from usage_charges
    union all
    select * from credit_charges
)

select * from final
order by period_start_date, charge_category desc, line_no, resource_id
