"""``fleetspend alerts run``: every organization's budgets and anomalies, each alert once.

For each organization, in one transaction on the primary (under a per-organization advisory
lock, so overlapping runs queue rather than race):

1. "now" is where its usage feed stands; nothing is evaluated before its first usage;
2. each budget's month so far and forecast come from :func:`.figures.month_spend_for_scope`
   and are held against the month's amount (:meth:`.budgets.Budget.amount_for`, so a budget
   changed mid-month counts at its new amount from the next run on):

   - an **actual** threshold is crossed when spend so far reaches that percent of the budget;
   - a **forecast** threshold when the expected month-end spend reaches it while spend so far
     has not (once spend has, the actual alert says it);

   only the highest threshold crossed of each kind fires, and only if no alert of that kind
   at or above it has fired for the budget this month: a first run at 85% says "80%", not
   "50%" and "80%". The unique index of migration 0016 (budget, month, kind, threshold)
   makes a second alert impossible however evaluation is run;
3. anomalies the spend overview shows (:func:`fleetspend.anomaly_search.read_anomalies`: found when
   the usage was folded) that started in the last week alert once each, by a key of their
   kind, app, region and first day;
4. each new alert gets its deliveries: one email to the organization's recipients of the
   moment, one per enabled webhook. Sending is :mod:`.delivery`'s, after this commits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from fleetspend import anomaly_search, clock
from fleetspend.alerts import figures, statements
from fleetspend.alerts.budgets import ORGANIZATION, TEAM, Budget, read_budgets
from fleetspend.money import dollars

ACTUAL, FORECAST, ANOMALY = "actual", "forecast", "anomaly"
KINDS = (ACTUAL, FORECAST, ANOMALY)
EXPLORER = "pages/explorer.py"
DAY = timedelta(days=1)
ANOMALY_LOOKBACK_DAYS = 7
ORG_LOCK_CLASS = 0x616C7274  # "alrt": the first key of the per-organization evaluation lock


@dataclass(frozen=True)
class Crossing:
    """A threshold a budget has newly crossed: its kind (actual, forecast) and percent."""

    kind: str
    threshold_percent: int


def crossings(budget_cents: int, month: figures.ScopeMonth, actual_thresholds: Iterable[int],
              forecast_thresholds: Iterable[int],
              fired: Iterable[tuple[str, int]]) -> list[Crossing]:
    """The alerts a budget's month calls for now, given those ``fired`` this month already
    ((kind, percent) pairs); see the module docstring for the rule."""
    fired = list(fired)

    def reached(cents: int | None, percent: int) -> bool:
        return cents is not None and cents * 100 >= percent * budget_cents

    def newly(kind: str, crossed: list[int]) -> list[Crossing]:
        if not crossed or any(k == kind and p >= max(crossed) for k, p in fired):
            return []
        return [Crossing(kind, max(crossed))]

    actual = [p for p in actual_thresholds if reached(month.spent_cents, p)]
    forecast = [] if month.is_invoiced else [
        p for p in forecast_thresholds
        if reached(month.forecast_cents, p) and not reached(month.spent_cents, p)]
    return [*newly(ACTUAL, actual), *newly(FORECAST, forecast)]


def _scope_params(budget: Budget) -> dict[str, str]:
    if budget.scope.kind == ORGANIZATION:
        return {"by": "team"}
    if budget.scope.kind == TEAM:
        return {"by": "app", "team": str(budget.scope.team_id)}
    return {"by": "region", "app": str(budget.scope.app_id)}


def budget_alert(budget: Budget, month: figures.ScopeMonth, budget_cents: int,
                 crossing: Crossing) -> dict[str, object]:
    """The row of the alert for ``crossing``: its numbers, words and the view showing why."""
    percent = crossing.threshold_percent
    share = Decimal(month.spent_cents * 100) / budget_cents
    month_name = f"{month.month_start:%B %Y}"
    basis = ("as invoiced" if month.is_invoiced
             else f"through {month.through_day:%b %d} (UTC), estimated until invoiced")
    outlook = ""
    if month.forecast is not None and not month.is_invoiced:
        outlook = (f" Forecast for the month: {dollars(month.forecast.expected_cents)} "
                   f"(between {dollars(month.forecast.low_cents)} and "
                   f"{dollars(month.forecast.high_cents)}).")
    if crossing.kind == ACTUAL:
        title = f"{budget.name}: {percent}% of the budget spent"
        explanation = (f"{budget.scope_label} spent {dollars(month.spent_cents)} of its "
                       f"{dollars(budget_cents)} budget for {month_name} ({share:.0f}%), "
                       f"{basis}.{outlook}")
    else:
        title = f"{budget.name}: forecast to reach {percent}% of the budget"
        forecast = month.forecast
        assert forecast is not None
        explanation = (f"At its recent daily rate {budget.scope_label} will spend "
                       f"{dollars(forecast.expected_cents)} in {month_name} (between "
                       f"{dollars(forecast.low_cents)} and {dollars(forecast.high_cents)}), "
                       f"over {percent}% of its {dollars(budget_cents)} budget; "
                       f"{dollars(month.spent_cents)} spent {basis}.")
    forecast = month.forecast
    return {
        "kind": crossing.kind, "budget_id": budget.budget_id,
        "period_start_date": month.month_start, "threshold_percent": percent,
        "anomaly_key": None, "spent_cents": month.spent_cents, "budget_cents": budget_cents,
        "forecast_cents": forecast and forecast.expected_cents,
        "forecast_low_cents": forecast and forecast.low_cents,
        "forecast_high_cents": forecast and forecast.high_cents,
        "is_invoiced": month.is_invoiced, "title": title, "explanation": explanation,
        "link_page": EXPLORER, "link_params": {
            **_scope_params(budget), "from": month.month_start.isoformat(),
            "to": month.through_day.isoformat(), "grain": "day"},
    }


def anomaly_alert(anomaly: anomaly_search.Anomaly) -> dict[str, object]:
    """The row of the alert for an anomaly the spend overview shows."""
    key = (f"{anomaly.kind}:{anomaly.app_id or 'org'}:{anomaly.region_code or '-'}:"
           f"{anomaly.start_date.isoformat()}")
    params = {"by": "region", "app": str(anomaly.app_id)} if anomaly.app_id else {"by": "app"}
    return {
        "kind": ANOMALY, "budget_id": None,
        "period_start_date": anomaly.start_date.replace(day=1), "threshold_percent": None,
        "anomaly_key": key, "spent_cents": None, "budget_cents": None, "forecast_cents": None,
        "forecast_low_cents": None, "forecast_high_cents": None, "is_invoiced": False,
        "title": f"Anomaly: {anomaly.subject}", "explanation": anomaly.explanation,
        "link_page": EXPLORER, "link_params": {
            **params, "from": (anomaly.start_date - 14 * DAY).isoformat(),
            "to": anomaly.end_date.isoformat(), "grain": "day"},
    }


def _insert(connection: Connection, org_id: int, row: dict[str, object]) -> int | None:
    params = {**row, "org_id": org_id, "link_params": json.dumps(row["link_params"])}
    return connection.execute(statements.sql("insert_alert"), params).scalar()


def _anomalies(connection: Connection, org_id: int,
               now: clock.AsOf) -> list[anomaly_search.Anomaly]:
    """The overview's anomalies (searched when the usage was folded) of the last week."""
    _start, complete_until, _since = anomaly_search.anomaly_window(now)
    return [anomaly for anomaly in anomaly_search.read_anomalies(connection, org_id, now)
            if anomaly.start_date >= complete_until - ANOMALY_LOOKBACK_DAYS * DAY]


def evaluate_organization(connection: Connection, org_id: int) -> list[int]:
    """Evaluate one organization in the caller's transaction (as the schema owner); the ids
    of the alerts that fired now, their deliveries queued."""
    connection.execute(statements.sql("lock_organization_evaluation"),
                       {"lock_class": ORG_LOCK_CLASS, "org_id": org_id})
    now = figures.usage_now(connection, org_id)
    if now is None:
        return []
    fired_now: list[int | None] = []
    for budget in read_budgets(connection, org_id):
        month = figures.month_spend_for_scope(connection, org_id, budget.scope, now)
        budget_cents = budget.amount_for(month.month_start)
        fired = connection.execute(statements.sql("fired_alerts"), {
            "org_id": org_id, "budget_id": budget.budget_id, "month_start": month.month_start,
        }).all()
        for crossing in crossings(budget_cents, month, budget.actual_thresholds,
                                  budget.forecast_thresholds, [tuple(row) for row in fired]):
            fired_now.append(_insert(connection, org_id,
                                     budget_alert(budget, month, budget_cents, crossing)))
    for anomaly in _anomalies(connection, org_id, now):
        fired_now.append(_insert(connection, org_id, anomaly_alert(anomaly)))
    alert_ids = [alert_id for alert_id in fired_now if alert_id is not None]
    if alert_ids:
        for statement in ("queue_email_deliveries", "queue_webhook_deliveries"):
            connection.execute(statements.sql(statement),
                               {"org_id": org_id, "alert_ids": alert_ids})
    return alert_ids


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation of every organization found."""

    organizations: int
    alert_ids: tuple[int, ...]
    seconds: float
    failed: tuple[tuple[int, str], ...] = ()  # (org_id, error) of organizations not evaluated

    def describe(self) -> str:
        line = (f"evaluated {self.organizations} organizations in {self.seconds:.2f} s: "
                f"{len(self.alert_ids)} new alerts")
        for org_id, error in self.failed:
            line += f"\norganization {org_id} was not evaluated: {error}"
        return line


def evaluate_all(engine: Engine) -> Evaluation:
    """Evaluate every organization, each in its own transaction on the primary; one that
    fails is rolled back and named, and the others are evaluated all the same."""
    started = time.perf_counter()
    with engine.connect() as connection:
        org_ids = connection.execute(statements.sql("organizations_to_evaluate")).scalars().all()
    alert_ids: list[int] = []
    failed: list[tuple[int, str]] = []
    for org_id in org_ids:
        try:
            with engine.begin() as connection:
                alert_ids += evaluate_organization(connection, org_id)
        except SQLAlchemyError as error:
            failed.append((org_id, type(error).__name__ + ": " + str(
                getattr(error, "orig", error)).splitlines()[0]))
    return Evaluation(len(org_ids), tuple(alert_ids), time.perf_counter() - started,
                      tuple(failed))
