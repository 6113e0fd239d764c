"""Budgets: what an organization, a team or an app may spend in a month, and when to warn.

A budget has a usual monthly amount in integer cents and optionally another amount for some
months. It warns at thresholds in percent of the month's amount: on actual spend (default
50, 80 and 100%) and on forecast spend (default 100%: "forecast to exceed"). Admins create,
change and archive budgets; the database writes each change together with its audit event
(``fleetspend_auth.save_budget`` and ``archive_budget``, migration 0016) and refuses anyone
who is not an admin of the organization. Members read their organization's budgets (all of
them cover a member: people belong to the organization, not to a team); support engineers
read them under a grant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fleetspend import auth, db
from fleetspend.alerts import statements
from queries import sql

ORGANIZATION, TEAM, APP = "organization", "team", "app"
SCOPE_KINDS = (ORGANIZATION, TEAM, APP)
DEFAULT_ACTUAL_THRESHOLDS = (50, 80, 100)
DEFAULT_FORECAST_THRESHOLDS = (100,)
MAX_THRESHOLD = 1000
# SQLSTATE of a budget change the database refuses with a message a person can act on
BUDGET_REFUSED = "FSB01"


class BudgetError(ValueError):
    """A budget could not be saved as given; nothing was written."""


@dataclass(frozen=True)
class BudgetScope:
    """What a budget covers: the whole organization, one team or one app."""

    kind: str
    team_id: int | None = None
    app_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise BudgetError(f"a budget covers one of {', '.join(SCOPE_KINDS)}")
        if (self.kind == TEAM) != (self.team_id is not None) or (
                (self.kind == APP) != (self.app_id is not None)):
            raise BudgetError(f"a {self.kind} budget names exactly its {self.kind}")

    def params(self) -> dict[str, list[int] | None]:
        """The ``team_ids`` and ``app_ids`` parameters of the queries that read a scope."""
        return {"team_ids": None if self.team_id is None else [self.team_id],
                "app_ids": None if self.app_id is None else [self.app_id]}


@dataclass(frozen=True)
class Budget:
    """A budget in force, as read from ``org_budgets``."""

    org_id: int
    budget_id: int
    name: str
    scope: BudgetScope
    scope_label: str
    amount_cents: int
    actual_thresholds: tuple[int, ...] = DEFAULT_ACTUAL_THRESHOLDS
    forecast_thresholds: tuple[int, ...] = DEFAULT_FORECAST_THRESHOLDS
    month_amounts: Mapping[date, int] = field(default_factory=dict)

    def amount_for(self, month_start: date) -> int:
        """The budget of the month starting ``month_start``, in cents."""
        return self.month_amounts.get(month_start, self.amount_cents)


def read_budgets(connection: Connection, org_id: int) -> list[Budget]:
    """The organization's budgets in force, by name (whatever the caller's scope shows)."""
    rows = connection.execute(sql("org_budgets"), {"org_id": org_id}).mappings()
    return [Budget(
        org_id=org_id, budget_id=row["budget_id"], name=row["name"],
        scope=BudgetScope(row["scope_kind"], row["team_id"], row["app_id"]),
        scope_label=row["scope_label"] or f"{row['scope_kind']} {row['team_id'] or row['app_id']}",
        amount_cents=int(row["amount_cents"]),
        actual_thresholds=tuple(sorted(row["actual_thresholds"])),
        forecast_thresholds=tuple(sorted(row["forecast_thresholds"])),
        month_amounts={date.fromisoformat(month): int(cents)
                       for month, cents in row["month_amounts"].items()},
    ) for row in rows]


# --- what an admin types ----------------------------------------------------------------------


def parse_cents(value: str, what: str = "the amount") -> int:
    """Dollars as typed ("1,250.50", "$900") to integer cents; whole cents only, above zero."""
    cleaned = value.strip().replace(",", "").removeprefix("$").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BudgetError(
            f"{what} must be a dollar amount such as 1250.00; got {value!r}") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise BudgetError(f"{what} must be above zero, in whole cents; got {value!r}")
    return int(amount * 100)


def parse_thresholds(value: str, what: str) -> tuple[int, ...]:
    """Percents as typed ("50, 80, 100"): whole numbers from 1 to 1000, each once, sorted.

    An empty text means none (no alerts of that kind)."""
    parts = [part.strip().removesuffix("%").strip() for part in value.split(",")]
    percents = []
    for part in (p for p in parts if p):
        if not part.isascii() or not part.isdigit() or not 1 <= int(part) <= MAX_THRESHOLD:
            raise BudgetError(f"{what} are whole percents from 1 to {MAX_THRESHOLD}, separated "
                              f"by commas; got {part!r}")
        percents.append(int(part))
    return tuple(sorted(set(percents)))


def parse_month_amounts(value: str) -> dict[date, int]:
    """Months that differ, one per line as typed: ``2026-12: 1500.00``."""
    months: dict[date, int] = {}
    for number, line in enumerate(value.splitlines(), start=1):
        if not line.strip():
            continue
        month, _, amount = line.partition(":")
        try:
            first_day = date.fromisoformat(f"{month.strip()}-01")
        except ValueError:
            raise BudgetError(f"month amounts, line {number}: start with a month such as "
                              f"2026-12; got {month.strip()!r}") from None
        months[first_day] = parse_cents(amount, f"month amounts, line {number}: the amount")
    return months


@dataclass(frozen=True)
class BudgetDraft:
    """A budget as an admin wants it saved."""

    name: str
    scope: BudgetScope
    amount_cents: int
    actual_thresholds: tuple[int, ...] = DEFAULT_ACTUAL_THRESHOLDS
    forecast_thresholds: tuple[int, ...] = DEFAULT_FORECAST_THRESHOLDS
    month_amounts: Mapping[date, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise BudgetError("give the budget a name")
        if self.amount_cents <= 0:
            raise BudgetError("a budget is a positive amount")


def admin_call(engine: Engine, caller: auth.Caller, statement: str, params: dict) -> Any:
    """Run one of migration 0016's functions (the named statement of sql/) as ``caller`` and
    return its result; refusals become exceptions."""
    if caller.is_staff:
        raise auth.AccessRefusedError("only an admin of the organization changes its budgets")
    try:
        with engine.begin() as connection:
            db.set_local(connection, auth.scope_for(caller).settings())
            return connection.execute(statements.sql(statement), params).scalar()
    except DBAPIError as error:
        denied = auth.refusal(error, auth.INSUFFICIENT_PRIVILEGE)
        if denied is not None:
            raise auth.AccessRefusedError(denied) from None
        # the functions' own refusals, check constraints and foreign keys
        refused = auth.refusal(error, BUDGET_REFUSED, "23514", "23503")
        if refused is None:
            raise
        raise BudgetError(refused) from None


def save_budget(engine: Engine, caller: auth.Caller, org_id: int, draft: BudgetDraft,
                budget_id: int | None = None) -> int:
    """Create (``budget_id`` None) or change a budget, with its audit event; its id.

    ``engine`` is the primary as the app's role. Raises :class:`BudgetError` for a budget the
    database refuses and :class:`fleetspend.auth.AccessRefusedError` for a caller who is not
    an admin of ``org_id``; nothing is written then.
    """
    return int(admin_call(engine, caller, "save_budget", {
        "org_id": org_id, "budget_id": budget_id, "name": draft.name.strip(),
        "scope_kind": draft.scope.kind, "team_id": draft.scope.team_id,
        "app_id": draft.scope.app_id, "amount_cents": draft.amount_cents,
        "actual": list(draft.actual_thresholds), "forecast": list(draft.forecast_thresholds),
        "months": json.dumps({month.isoformat(): cents
                              for month, cents in draft.month_amounts.items()}),
    }))


def archive_budget(engine: Engine, caller: auth.Caller, org_id: int, budget_id: int) -> None:
    """Retire a budget (its alerts stay), with its audit event; refusals as :func:`save_budget`."""
    admin_call(engine, caller, "archive_budget", {"org_id": org_id, "budget_id": budget_id})
