"""A budget scope's month: spend so far, its forecast to month end and the days behind them.

The figures are the pages' own: "now" is where the usage feed stands
(:func:`fleetspend.clock.as_of`), the month so far is the rollups' spend of the scope (the
whole organization from the per-org rollup the spend overview reads, a team's or an app's
from the per-app rollup the explorer reads), rounded once to cents, and the forecast is
:func:`fleetspend.forecasting.forecast_month` over the complete days before "now". A month whose
invoice is finalized (or paid) reads the invoice's cents instead: its subtotal for the whole
organization, what its lines allocated to the scope's apps for a team or an app.

:func:`month_spend_for_scope` is the one function evaluation and the Budgets page call for
these figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from fleetspend import clock, forecasting, money
from fleetspend.alerts.budgets import Budget, BudgetScope, read_budgets
from fleetspend.billing import invoice_status
from queries import sql

DAY = timedelta(days=1)
# the forecast's rate and range come from the last 28 days with spend: read five weeks back
HISTORY_READ_DAYS = 35


@dataclass(frozen=True)
class ScopeMonth:
    """One budget scope's month in progress (or invoiced), as the pages show it."""

    month_start: date
    through_day: date  # the last day counted
    spent_cents: int
    forecast: forecasting.Forecast | None
    is_invoiced: bool  # the figure is the invoice's; otherwise it is estimated
    days: tuple[tuple[date, Decimal], ...] = ()  # the month's days so far and their spend

    @property
    def forecast_cents(self) -> int | None:
        return None if self.forecast is None else self.forecast.expected_cents


def usage_now(connection: Connection, org_id: int) -> clock.AsOf | None:
    """Where the organization's usage feed stands, or None before its first usage."""
    through_at = connection.execute(sql("usage_complete_through"), {"org_id": org_id}).scalar()
    return None if through_at is None else clock.as_of(through_at)


def _sealed_invoice_cents(connection: Connection, org_id: int, scope: BudgetScope,
                          month_start: date) -> int | None:
    invoice = connection.execute(sql("month_invoice"), {
        "org_id": org_id, "month_date": month_start}).mappings().first()
    if invoice is None or not invoice_status.is_sealed(invoice["status"]):
        return None
    return int(connection.execute(sql("invoice_scope_cents"), {
        "org_id": org_id, "invoice_id": invoice["invoice_id"], **scope.params()}).scalar_one())


def month_spend_for_scope(connection: Connection, org_id: int, scope: BudgetScope,
                          now: clock.AsOf) -> ScopeMonth:
    """The month's spend for a budget scope: so far, forecast, and day by day.

    The month is the one in progress at ``now``. Reads the rollups (the invoice for an
    invoiced month) in the caller's transaction.
    """
    rows = connection.execute(sql("budget_scope_daily_spend"), {
        "org_id": org_id, "start_date": now.month_start - HISTORY_READ_DAYS * DAY,
        "end_date": now.last_day + DAY, **scope.params()}).all()
    by_day = {row.usage_date: row.amount_precise for row in rows}
    month_days = tuple((day, amount) for day, amount in sorted(by_day.items())
                       if day >= now.month_start)
    spent = sum((amount for _, amount in month_days), Decimal(0))
    invoiced_cents = _sealed_invoice_cents(connection, org_id, scope, now.month_start)
    if invoiced_cents is not None:
        final = forecasting.Forecast(invoiced_cents, invoiced_cents, invoiced_cents, 0)
        return ScopeMonth(now.month_start, now.last_day, invoiced_cents, final, True,
                          month_days)
    complete_until = now.last_day + DAY if now.is_last_day_complete else now.last_day
    # as the overview takes them: the days with spend before "now" (the forecast uses 28)
    history = [amount for day, amount in sorted(by_day.items()) if day < complete_until]
    forecast = forecasting.forecast_month(spent, history, now.remaining_days)
    return ScopeMonth(now.month_start, now.last_day, money.to_cents(spent), forecast, False,
                      month_days)


@dataclass(frozen=True)
class Progress:
    """One budget's month so far against its amount for the month."""

    budget: Budget
    month: ScopeMonth
    budget_cents: int

    @property
    def spent_percent(self) -> Decimal:
        return Decimal(self.month.spent_cents * 100) / self.budget_cents


def budget_progress(connection: Connection, org_id: int) -> tuple[clock.AsOf | None,
                                                                   list[Progress]]:
    """Every budget in force with its month so far (none before the first usage)."""
    now = usage_now(connection, org_id)
    if now is None:
        return None, []
    return now, [Progress(budget, month, budget.amount_for(month.month_start))
                 for budget in read_budgets(connection, org_id)
                 for month in [month_spend_for_scope(connection, org_id, budget.scope, now)]]
