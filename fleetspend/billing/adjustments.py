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

from sqlalchemy import Connection

from fleetspend.billing import invoice_status, statements, temporary
from fleetspend.billing.rating import PRODUCT_ORDER, stage_month

_STAGED = ("rated_resources", "rated_lines", "rated_allocations")


def stage_with_adjustments(connection: Connection, period_start: date,
                           org_ids: list[int]) -> None:
    """Stage the month for ``org_ids`` as rating.stage_month does, plus the adjustment lines
    and allocations its drafts carry for earlier months (noted in ``late_usage_periods``).

    Leaves ``carried_periods`` (org, month) for :func:`clear_carried` at finalization.
    """
    temporary.drop(connection, "carried_periods")
    connection.execute(statements.sql("carried_periods"),
                       {"org_ids": org_ids, "period_start": period_start})
    carried = connection.execute(statements.sql("carried_months")).all()
    if not carried:
        stage_month(connection, period_start, org_ids)
        return
    temporary.drop(connection, "adjustment_lines", "adjustment_allocations",
                   "numbered_adjustments", "billed_lines")
    # re-rate each carried month with its organizations, keeping the differences
    for adjusted, adjusted_org_ids in carried:
        stage_month(connection, adjusted, adjusted_org_ids)
        params = {"adjusted": adjusted, **invoice_status.sealed_params()}
        connection.execute(statements.sql("billed_lines"), params)
        if adjusted == carried[0][0]:
            connection.execute(statements.sql("create_adjustment_lines"))
            connection.execute(statements.sql("create_adjustment_allocations"))
        connection.execute(statements.sql(
            "adjustment_line_differences", "rerated_minus_billed", "adjustment_line_pairs"),
            params)
        connection.execute(statements.sql(
            "adjustment_allocation_differences", "rerated_minus_billed",
            "adjustment_allocation_pairs"), params)
        temporary.drop(connection, "billed_lines")
    # then the month itself, and the adjustments after its lines
    stage_month(connection, period_start, org_ids)
    connection.execute(statements.sql("number_adjustments"), {"product_order": PRODUCT_ORDER})
    connection.execute(statements.sql("append_adjustment_lines"))
    connection.execute(statements.sql("append_adjustment_allocations"))
    temporary.analyze(connection, *_STAGED)


def clear_carried(connection: Connection, sealed_org_ids: list[int]) -> None:
    """Forget the late-usage notes that the just-sealed invoices of ``sealed_org_ids`` carried
    (after :func:`stage_with_adjustments`, in the same transaction)."""
    connection.execute(statements.sql("clear_carried"), {"org_ids": sealed_org_ids})
