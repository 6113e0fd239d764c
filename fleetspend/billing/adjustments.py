"""Late usage: usage that changed after its month's invoice was sealed, billed on a later one.

A sealed invoice never changes. When an import changes the usage of a sealed month, it notes
the month in ``late_usage_periods``. The organization's next draft re-rates that month and
carries, line by line, the difference between the month re-rated and what was billed for it
so far (the month's own invoice plus adjustment lines on sealed later invoices): more usage
is a positive adjustment, less (a correction downwards) a negative one. The difference of
each machine or volume is carried the same way, so a line's adjustments add up to it exactly
and every resource's allocations over all invoices add up to its share of the month
re-rated. An adjustment line's cents are therefore the month's line re-rated (rounded once by
the rule) minus the cents already billed for it; the sum of all invoices equals the exact
rating of all usage, rounded once per line of each month.

Which draft carries a month: the earliest draft of the organization for a later month (a draft
between them carries it instead). Finalizing the carrying invoice seals its adjustment lines
and clears the notes it carried. Negative adjustments are not credit notes: credit notes stay
support's corrections of a sealed invoice, within what it billed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from fleetspend.billing import invoice_status, statements
from fleetspend.billing.rating import PRODUCT_ORDER, stage_month

# a line's key as text: the product decides which of size and egress group it carries
LINE_KEY = ("concat_ws('|', {t}.product, {t}.price_list_id, {t}.region_code, {t}.preset_code, "
            "{t}.memory_mb, {t}.egress_group)")

# What was billed so far for the month's lines and their resources: the month's own sealed
# invoice and the sealed adjustment lines for it.
BILLED_SQL = f"""
create temp table billed_lines on commit drop as
select invoice_lines.org_id, invoice_lines.invoice_id, invoice_lines.line_no,
       {LINE_KEY.format(t="invoice_lines")} as line_key,
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
"""  # noqa: S608 - composed from this module's constants only

# re-rated minus billed, for a line or a resource (either side may be missing)
DIFFERENCE = """coalesce(rerated.consumed_quantity, 0) - coalesce(billed.consumed_quantity, 0)
           as consumed_quantity,
       coalesce(rerated.quantity, 0) - coalesce(billed.quantity, 0) as quantity,
       coalesce(rerated.amount_precise, 0) - coalesce(billed.amount_precise, 0)
           as amount_precise,
       coalesce(rerated.amount_cents, 0) - coalesce(billed.amount_cents, 0) as amount_cents"""

# Per line key: the DIFFERENCE of the re-rated and the billed line, kept when anything
# differs; resources likewise, within their line key.
DIFFERENCES_SQL = f"""
insert into adjustment_lines
with rerated as (
    select rated_lines.*, {LINE_KEY.format(t="rated_lines")} as line_key
    from rated_lines
),

billed as (
    select org_id, line_key, product, price_list_id, region_code, preset_code, memory_mb,
           egress_group, unit_price, consumed_unit, pricing_unit, min(description) as description,
           sum(consumed_quantity) as consumed_quantity, sum(quantity) as quantity,
           sum(amount_precise) as amount_precise, sum(amount_cents) as amount_cents
    from billed_lines
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
),

own_invoice as (
    select org_id, invoice_number from invoices
    where period_start_date = :adjusted and status = any(:sealed_statuses)
)

select coalesce(rerated.org_id, billed.org_id) as org_id,
       cast(:adjusted as date) as adjusts_period_date,
       coalesce(rerated.line_key, billed.line_key) as line_key,
       coalesce(rerated.product, billed.product) as product,
       coalesce(rerated.price_list_id, billed.price_list_id) as price_list_id,
       coalesce(rerated.region_code, billed.region_code) as region_code,
       coalesce(rerated.preset_code, billed.preset_code) as preset_code,
       coalesce(rerated.memory_mb, billed.memory_mb) as memory_mb,
       coalesce(rerated.egress_group, billed.egress_group) as egress_group,
       coalesce(rerated.unit_price, billed.unit_price) as unit_price,
       coalesce(rerated.consumed_unit, billed.consumed_unit) as consumed_unit,
       coalesce(rerated.pricing_unit, billed.pricing_unit) as pricing_unit,
       format('Adjustment to %s (%s): %s', to_char(cast(:adjusted as date), 'FMMonth YYYY'),
              own_invoice.invoice_number,
              coalesce(rerated.description, billed.description)) as description,
       {DIFFERENCE}
from rerated
full join billed
  on billed.org_id = rerated.org_id and billed.line_key = rerated.line_key
join own_invoice on own_invoice.org_id = coalesce(rerated.org_id, billed.org_id)
"""  # noqa: S608 - composed from this module's constants only

RESOURCE_DIFFERENCES_SQL = f"""
insert into adjustment_allocations
with rerated as (
    select rated_allocations.org_id, {LINE_KEY.format(t="rated_lines")} as line_key,
           rated_allocations.resource_kind, rated_allocations.resource_id,
           rated_allocations.app_id, rated_allocations.consumed_quantity,
           rated_allocations.quantity, rated_allocations.amount_precise,
           rated_allocations.amount_cents
    from rated_allocations
    join rated_lines using (org_id, line_no)
),

billed as (
    select billed_lines.org_id, billed_lines.line_key, invoice_allocations.resource_kind,
           invoice_allocations.resource_id, invoice_allocations.app_id,
           sum(invoice_allocations.consumed_quantity) as consumed_quantity,
           sum(invoice_allocations.quantity) as quantity,
           sum(invoice_allocations.amount_precise) as amount_precise,
           sum(invoice_allocations.amount_cents) as amount_cents
    from billed_lines
    join invoice_allocations using (org_id, invoice_id, line_no)
    group by 1, 2, 3, 4, 5
)

select coalesce(rerated.org_id, billed.org_id) as org_id,
       cast(:adjusted as date) as adjusts_period_date,
       coalesce(rerated.line_key, billed.line_key) as line_key,
       coalesce(rerated.resource_kind, billed.resource_kind) as resource_kind,
       coalesce(rerated.resource_id, billed.resource_id) as resource_id,
       coalesce(rerated.app_id, billed.app_id) as app_id,
       {DIFFERENCE}
from rerated
full join billed
  on billed.org_id = rerated.org_id
 and billed.line_key = rerated.line_key
 and billed.resource_id = rerated.resource_id
"""  # noqa: S608 - composed from this module's constants only

_STAGED = ("rated_resources", "rated_lines", "rated_allocations")


def stage_with_adjustments(connection: Connection, period_start: date,
                           org_ids: list[int]) -> None:
    """Stage the month for ``org_ids`` as rating.stage_month does, plus the adjustment lines
    and allocations its drafts carry for earlier months (noted in ``late_usage_periods``).

    Leaves ``carried_periods`` (org, month) for :func:`clear_carried` at finalization.
    """
    connection.exec_driver_sql("drop table if exists pg_temp.carried_periods")
    connection.execute(statements.sql("carried_periods"),
                       {"org_ids": org_ids, "period_start": period_start})
    carried = connection.execute(statements.sql("carried_months")).all()
    if not carried:
        stage_month(connection, period_start, org_ids)
        return
    for table in ("adjustment_lines", "adjustment_allocations", "numbered_adjustments",
                  "billed_lines"):
        connection.exec_driver_sql(f"drop table if exists pg_temp.{table}")
    # re-rate each carried month with its organizations, keeping the differences
    for adjusted, adjusted_org_ids in carried:
        stage_month(connection, adjusted, adjusted_org_ids)
        params = {"adjusted": adjusted, **invoice_status.sealed_params()}
        connection.execute(text(BILLED_SQL), params)
        if adjusted == carried[0][0]:
            connection.execute(statements.sql("create_adjustment_lines"))
            connection.execute(statements.sql("create_adjustment_allocations"))
        connection.execute(text(DIFFERENCES_SQL), params)
        connection.execute(text(RESOURCE_DIFFERENCES_SQL), params)
        connection.exec_driver_sql("drop table pg_temp.billed_lines")
    # then the month itself, and the adjustments after its lines
    stage_month(connection, period_start, org_ids)
    connection.execute(statements.sql("number_adjustments"), {"product_order": PRODUCT_ORDER})
    connection.execute(statements.sql("append_adjustment_lines"))
    connection.execute(statements.sql("append_adjustment_allocations"))
    for table in _STAGED:
        connection.exec_driver_sql(f"analyze pg_temp.{table}")


def clear_carried(connection: Connection, sealed_org_ids: list[int]) -> None:
    """Forget the late-usage notes that the just-sealed invoices of ``sealed_org_ids`` carried
    (after :func:`stage_with_adjustments`, in the same transaction)."""
    connection.execute(statements.sql("clear_carried"), {"org_ids": sealed_org_ids})
