"""What the Budgets, Alerts and alert-settings pages draw: the budgets read, a budget's month
against its line, the admins' budget form, and the sidebar's unread count.

Money arrives as integer cents (or Decimal) and is divided by 100 only to draw. Names pass
:mod:`fleetspend.ui.untrusted` on their way to the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate

import plotly.graph_objects as go
import streamlit as st
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from fleetspend import auth, clock
from fleetspend.alerts import budgets, figures
from fleetspend.money import dollars
from fleetspend.reads import usage_explorer
from fleetspend.ui import access, charts, database
from fleetspend.ui.untrusted import md_format

FORM_KEY = "budgets_form"
ROUND_KEY = f"{FORM_KEY}_round"  # counts saves, so that each save starts fresh forms
NEW = 0
SCOPE_LABELS = {budgets.ORGANIZATION: "The whole organization", budgets.TEAM: "A team",
                budgets.APP: "An app"}


@database.loader(ttl=60, max_entries=64)
def load_budgets(connection: Connection, org_id: int) -> tuple[
        clock.AsOf | None, list[figures.Progress], dict[str, dict[str, str]]]:
    """Every budget's progress and the organization's teams and apps, in one snapshot."""
    now, progress = figures.budget_progress(connection, org_id)
    return now, progress, usage_explorer.read_dimension_values(connection, org_id)


def month_chart(progress: figures.Progress) -> go.Figure:
    """The month so far, day by day and added up, against the budget and its thresholds."""
    month = progress.month
    days = [day for day, _ in month.days]
    cumulative = [amount * 100 for amount in accumulate(amount for _, amount in month.days)]
    month_end = (month.month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    figure = go.Figure(go.Scatter(
        x=days, y=[float(cents) / 100 for cents in cumulative], mode="lines+markers",
        name="Spent so far", hovertemplate="%{x|%b %d}: %{text}<extra></extra>",
        text=[dollars(Decimal(cents)) for cents in cumulative]))
    figure.add_trace(go.Scatter(
        x=[month.month_start, month_end], y=[progress.budget_cents / 100] * 2, mode="lines",
        name="Budget", line={"color": "#d62728"}, hoverinfo="skip"))
    if month.forecast is not None and not month.is_invoiced and days:
        figure.add_trace(go.Scatter(
            x=[days[-1], month_end, month_end],
            y=[month.spent_cents / 100, month.forecast.low_cents / 100,
               month.forecast.high_cents / 100],
            mode="markers", name="Forecast range", marker={"symbol": "line-ew-open",
                                                           "size": 14}))
    for percent in progress.budget.actual_thresholds:
        if percent != 100:
            figure.add_hline(y=progress.budget_cents * percent / 10000, line_dash="dot",
                             line_color="#999999", annotation_text=f"{percent}%")
    figure.update_layout(height=220, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         yaxis={"tickprefix": "$", "rangemode": "tozero"},
                         xaxis={"range": [month.month_start, month_end]},
                         legend={"orientation": "h"})
    return figure


def show_progress(progress: figures.Progress) -> None:
    """One budget: what it covers, spent against it, the forecast and the month's chart."""
    budget, month = progress.budget, progress.month
    with st.container(border=True):
        st.markdown(md_format("**{name}** covers {scope}; thresholds {actual} of actual spend"
                              ", {forecast} of forecast.", name=budget.name,
                              scope=budget.scope_label,
                              actual=", ".join(f"{p}%" for p in budget.actual_thresholds)
                              or "none",
                              forecast=", ".join(f"{p}%" for p in budget.forecast_thresholds)
                              or "none"))
        spent, outlook, amount = st.columns(3)
        state = "invoiced" if month.is_invoiced else "estimated"
        spent.metric(f"Spent in {month.month_start:%B} ({state})", dollars(month.spent_cents),
                     delta=f"{progress.spent_percent:.0f}% of the budget", delta_color="off")
        if month.forecast is None:
            outlook.metric("Forecast to month end", "not enough history")
        else:
            outlook.metric("Forecast to month end", dollars(month.forecast.expected_cents))
            outlook.caption(md_format("Range {low} to {high}",
                                      low=dollars(month.forecast.low_cents),
                                      high=dollars(month.forecast.high_cents)))
        amount.metric(f"Budget for {month.month_start:%B}", dollars(progress.budget_cents))
        charts.draw(month_chart(progress), key=f"budgets_chart_{budget.budget_id}")


def _text_of(cents_by_month: Mapping[date, int]) -> str:
    return "\n".join(f"{month:%Y-%m}: {Decimal(cents) / 100:.2f}"
                     for month, cents in sorted(cents_by_month.items()))


def _pick(label: str, names: dict[str, str], current: int | None, key: str) -> str:
    keys = list(names) or [""]
    index = keys.index(str(current)) if str(current) in keys else 0
    return st.selectbox(label, keys, index=index, key=key,
                        format_func=lambda value: names.get(value, "none yet"))


def budget_form(visit: access.Visit, existing: list[budgets.Budget],
                teams: dict[str, str], apps: dict[str, str],
                forget: Callable[[], None]) -> None:
    """Create or change a budget (admins); the database audits each save. ``forget`` drops
    the page's cached reads once one is saved."""
    chosen = st.selectbox("Budget", [NEW, *(b.budget_id for b in existing)], key=FORM_KEY,
                          format_func=lambda budget_id: "New budget" if budget_id == NEW else
                          next(b.name for b in existing if b.budget_id == budget_id))
    current = next((b for b in existing if b.budget_id == chosen), None)
    kinds = list(SCOPE_LABELS)
    key = f"{FORM_KEY}_{st.session_state.get(ROUND_KEY, 0)}_{chosen}"  # see write_then_rerun
    with st.form(key):
        name = st.text_input("Name", value=current.name if current else "", key=f"{key}_name")
        kind = st.radio("Covers", kinds, format_func=SCOPE_LABELS.__getitem__, horizontal=True,
                        index=kinds.index(current.scope.kind) if current else 0,
                        key=f"{key}_kind")
        team = _pick("Team (for a team budget)", teams,
                     current.scope.team_id if current else None, f"{key}_team")
        app = _pick("App (for an app budget)", apps, current.scope.app_id if current else None,
                    f"{key}_app")
        amount = st.text_input("Monthly amount (USD)", value=f"{current.amount_cents / 100:.2f}"
                               if current else "", key=f"{key}_amount")
        actual = st.text_input("Alert at % of actual spend", value=", ".join(
            map(str, current.actual_thresholds if current else
                budgets.DEFAULT_ACTUAL_THRESHOLDS)), key=f"{key}_actual")
        forecast = st.text_input("Alert at % of forecast spend", value=", ".join(
            map(str, current.forecast_thresholds if current else
                budgets.DEFAULT_FORECAST_THRESHOLDS)), key=f"{key}_forecast")
        months = st.text_area("Months with another amount (one a line: 2026-12: 1500.00)",
                              value=_text_of(current.month_amounts) if current else "",
                              key=f"{key}_months")
        saved = st.form_submit_button("Save budget", icon=":material/save:")
    if current is not None and st.button("Archive this budget", key=f"{FORM_KEY}_archive"):
        write_then_rerun(lambda: budgets.archive_budget(database.primary(), visit.caller,
                                              visit.org_in_view, current.budget_id),
               f"{current.name} is archived.", forget)
    if saved:
        def save() -> None:
            if kind != budgets.ORGANIZATION and not (team if kind == budgets.TEAM else app):
                raise budgets.BudgetError(f"the organization has no {kind} to budget yet")
            scope = budgets.BudgetScope(
                kind, team_id=int(team) if kind == budgets.TEAM else None,
                app_id=int(app) if kind == budgets.APP else None)
            draft = budgets.BudgetDraft(
                name, scope, budgets.parse_cents(amount),
                budgets.parse_thresholds(actual, "actual spend thresholds"),
                budgets.parse_thresholds(forecast, "forecast thresholds"),
                budgets.parse_month_amounts(months))
            budgets.save_budget(database.primary(), visit.caller, visit.org_in_view, draft,
                                current.budget_id if current else None)
        write_then_rerun(save, f"{name.strip()} is saved.", forget)


def write_then_rerun(action: Callable[[], object], done: str,
                     forget: Callable[[], None]) -> None:
    """Run a write on the primary; say what went wrong in words, or forget the page's cached
    reads and start it over saying ``done``."""
    try:
        action()
    except (budgets.BudgetError, auth.AccessRefusedError) as error:
        st.error(md_format("Nothing saved: {error}", error=error), icon=":material/block:")
        return
    except SQLAlchemyError:
        st.error("Nothing saved: the database could not be reached. Try again in a moment.",
                 icon=":material/error:")
        return
    # the forms start afresh from what is saved: widgets under new keys (a browser keeps what
    # was typed into a widget whose key stays)
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    st.session_state[f"{FORM_KEY}_done"] = done
    forget()
    st.rerun()


def show_done() -> None:
    """Say what the last write did (it started the page over)."""
    if done := st.session_state.pop(f"{FORM_KEY}_done", None):
        st.success(md_format("{done}", done=done), icon=":material/check:")


def unread_badge(visit: access.Visit) -> None:
    """The signed-in customer's unread alerts in the organization in view, in the sidebar
    (read with the visit, so never older than this page view)."""
    if visit.caller.is_staff or visit.unread_alerts is None:
        return
    count = visit.unread_alerts
    label = f"{count} unread alert{'s' if count != 1 else ''}"
    st.sidebar.markdown(f":material/notifications: **{label}**" if count else
                        f":material/notifications_none: {label}")
