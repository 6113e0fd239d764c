"""The team comparison's reads, URL state and sections: what pages/teams.py draws, out of its
way so that the page reads as its flow.

The view lives in the URL (from, to, grain, team); :func:`read_state` validates it against the
organization's teams and last day of usage, each bad value replaced by its default with a
notice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from fleetspend import clock
from fleetspend.money import change_percent, dollars
from fleetspend.reads import freshness, invoice_drill, teams, usage_explorer
from fleetspend.reads.comparison import PeriodComparison
from fleetspend.ui import access, charts, database, tables, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.untrusted import md, md_format

KEY = "teams_"
TABLE_KEY = f"{KEY}table_{{period}}"
APPS_TABLE_KEY = f"{KEY}apps_{{team}}_{{period}}"
TREND_KEY = f"{KEY}trend"
DATES_KEY = f"{KEY}dates"
GRAIN_KEY = f"{KEY}grain"
EXPLORER = "pages/explorer.py"
NO_TEAM = ""


@database.loader(ttl=60, max_entries=64)
def load_context(connection: Connection, org_id: int) -> tuple[
        dict[int, str], date | None, freshness.Freshness, date | None, date | None]:
    """The organization's teams, "now", their freshness, and the first and the last day with
    usage in the rollups (the freshness and the days in one statement)."""
    names = teams.read_teams(connection, org_id)
    org = freshness.read_org_freshness(connection, org_id)
    through = org.fresh.usage_complete_through_at
    last_day = None if through is None else clock.as_of(through).last_day
    return names, last_day, org.fresh, org.first_usage_date, org.last_usage_date


@database.loader(ttl=60, max_entries=128)
def load_comparison(connection: Connection, org_id: int, period: teams.Period, grain: str,
                    names: dict[int, str], team_id: int | None, latest: date | None) -> tuple[
                        teams.Comparison, usage_explorer.Series, pd.DataFrame]:
    """The comparison (with ``team_id``'s apps), spend per team over both periods and the
    invoices, in one snapshot (``latest``: the last day with usage, from
    :func:`load_context`)."""
    comparison = teams.read_comparison(connection, org_id, period, names, shown_team=team_id,
                                       latest_usage_day=latest)
    trend = teams.read_trend(connection, org_id, period, grain, latest_usage_day=latest)
    return (comparison, usage_explorer.build_series(trend),
            invoice_drill.invoices(connection, org_id))


def read_state(names: dict[int, str], last_day: date) -> tuple[dict, list[str]]:
    """The view from the URL, each bad parameter replaced by its default."""
    reader = url_state.reader()
    default_from, default_to = teams.last_whole_month(last_day)
    earliest = date(2000, 1, 1)
    state: dict[str, Any] = {
        "from": reader.day("from", default_from, earliest, last_day),
        "to": reader.day("to", default_to, earliest, last_day),
        "grain": reader.choice("grain", teams.TREND_GRAINS, "month"),
        "team": reader.choice("team", [str(team_id) for team_id in names], NO_TEAM),
    }
    days = (state["to"] - state["from"]).days + 1
    if days < 1 or days > teams.MAX_PERIOD_DAYS:
        reader.notices.append(
            f"Ignored the dates {state['from']} to {state['to']}: a period runs forward and "
            f"is at most {teams.MAX_PERIOD_DAYS} days; showing {default_from:%B %Y}.")
        state["from"], state["to"] = default_from, default_to
    return state, reader.notices


def write(state: dict) -> None:
    """Make the URL say ``state`` (no team parameter when no team is picked)."""
    url_state.write({name: value for name, value in state.items()
                     if not (name == "team" and value == NO_TEAM)})


def go(state: dict) -> None:
    """Show ``state``: the URL is the source of truth, so write it and run again."""
    write(state)
    st.rerun()


def table_key(state: dict) -> str:
    return TABLE_KEY.format(period=f"{state['from']}_{state['to']}")


def follow_trend_click(state: dict) -> None:
    """A click on a team in the trend chart of the previous run shows that team's apps."""
    clicked = charts.selected_keys(st.session_state.get(TREND_KEY))
    if clicked:
        del st.session_state[TREND_KEY]
        if clicked[0] != usage_explorer.OTHER_KEY and clicked[0] != state["team"]:
            st.session_state.pop(table_key(state), None)  # the table's pick would undo this
            go({**state, "team": clicked[0]})


def show_all_teams(state: dict) -> None:
    """Back from a team's apps: drop the team from the URL and the table's pick with it."""
    st.session_state.pop(table_key(state), None)
    st.query_params.pop("team", None)


def _dates_changed() -> None:
    value = st.session_state[DATES_KEY]
    if len(value) == 2:
        st.query_params["from"], st.query_params["to"] = (day.isoformat() for day in value)


def _grain_changed() -> None:
    st.query_params["grain"] = st.session_state[GRAIN_KEY]


def controls(state: dict, last_day: date) -> None:
    """The period and the trend's grain, each written to the URL when changed."""
    st.session_state[DATES_KEY] = (state["from"], state["to"])
    st.session_state[GRAIN_KEY] = state["grain"]
    columns = st.columns([3, 1, 3])
    columns[0].date_input("Period (UTC days, inclusive)", key=DATES_KEY, max_value=last_day,
                          on_change=_dates_changed)
    columns[1].selectbox("Trend per", teams.TREND_GRAINS, key=GRAIN_KEY,
                         on_change=_grain_changed)


def metrics(comparison: teams.Comparison, period: teams.Period,
            compared: PeriodComparison) -> None:
    """The organization's spend against the period before, machine-hours, cost per hour."""
    delta = compared.delta_text(comparison.total_cents, comparison.previous_total_cents)
    hours = sum(comparison.teams.machine_hours)
    columns = st.columns(4)
    columns[0].metric(md_format("Organization, {start} to {end}", start=period.start_date,
                                end=period.last_day),
                      dollars(comparison.total_cents), delta_color="inverse",
                      delta=None if delta is None else f"{delta} vs {compared.label.lower()}")
    columns[1].metric(compared.label, dollars(comparison.previous_total_cents),
                      help=f"{period.previous_start_date} to "
                           f"{period.start_date - timedelta(days=1)}")
    if compared.note:
        st.caption(compared.note)
    columns[2].metric("Machine-hours", f"{hours:,.0f}")
    per_hour = teams.cost_per_machine_hour(comparison.total_cents, hours)
    columns[3].metric("Cost per machine-hour", "no machines" if per_hour is None
                      else f"${per_hour:,.4f}",
                      help="All spend (machines, volumes, egress) over machine-hours.")


def column_config(table: pd.DataFrame) -> dict:
    return {**tables.column_config(table),
            "Cost per machine-hour (USD)": st.column_config.NumberColumn(format="$%.4f"),
            "Machine-hours": st.column_config.NumberColumn(format="%,.1f"),
            "Average machines": st.column_config.NumberColumn(format="%,.1f")}


def show_movers(title: str, movers: list[teams.Mover]) -> None:
    st.markdown(md_format("**{title}**", title=title))
    if not movers:
        st.caption("No change in spend against the previous period.")
    for mover in movers:
        change = change_percent(mover.amount_cents, mover.previous_cents)
        sign = "+" if mover.change_cents > 0 else "-"
        percent = "" if change is None else f" ({change:+}%)"
        amount = dollars(abs(mover.change_cents))
        st.markdown(md(f"{mover.name}: {sign}{amount}{percent}, {mover.reason}"))


def team_apps(visit: access.Visit, state: dict, comparison: teams.Comparison,
              compared: PeriodComparison, invoices: pd.DataFrame, period: teams.Period,
              names: dict[int, str]) -> None:
    """The picked team's apps side by side, with links into the explorer and the invoices."""
    team_id = int(state["team"])
    team_name = names[team_id]
    st.subheader(md_format("Apps of {team}", team=team_name))
    team = comparison.teams[comparison.teams.key == team_id].iloc[0]
    apps = tables.like_for_like(teams.export_table(
        teams.team_apps(comparison, team_id), what="App", total_cents=int(team.amount_cents),
        previous_total_cents=int(team.previous_cents)), compared)
    if len(apps) == 1:
        st.info(md_format("{team} spent nothing in these dates or the ones before.",
                          team=team_name), icon=":material/inbox:")
    else:
        st.dataframe(apps, hide_index=True, key=APPS_TABLE_KEY.format(
            team=team_id, period=f"{state['from']}_{state['to']}"),
            column_order=[c for c in apps.columns if c != "App id"],
            column_config=column_config(apps), placeholder="")
        ui.csv_download(md_format("Download {team}'s apps (CSV)", team=team_name),
                        apps.drop(columns=["App id"]),
                        file_name=f"fleetspend-team-{team_id}-{state['from']}-{state['to']}.csv",
                        key=f"{KEY}apps_csv")
    links = st.columns(2)
    with links[0]:
        st.page_link(EXPLORER, label=md_format("{team} in the usage explorer", team=team_name),
                     icon=":material/query_stats:", query_params={
                         **ui.access_params(visit), "from": state["from"].isoformat(),
                         "to": state["to"].isoformat(), "team": str(team_id), "by": "app"})
    with links[1]:
        invoice_links(visit, invoices, period, team_id, team_name)
    st.button("Back to all teams", key=f"{KEY}clear", on_click=show_all_teams, args=(state,))


def invoice_links(visit: access.Visit, invoices: pd.DataFrame, period: teams.Period,
                  team_id: int, team_name: str) -> None:
    """Links to the invoices of the months the period touches, narrowed to the team's apps."""
    months = {period.start_date.replace(day=1), period.last_day.replace(day=1)}
    shown = invoices[invoices.period_start_date.isin(months)] if not invoices.empty else invoices
    if shown.empty:
        st.caption("No invoice covers these dates yet.")
    for row in shown.itertuples():
        st.page_link(ui.APPS_PAGE, label=md_format(
                         "{team}'s apps on invoice {number} ({month:%B %Y})", team=team_name,
                         number=row.invoice_number, month=row.period_start_date),
                     icon=":material/receipt_long:",
                     query_params={**ui.access_params(visit), "invoice": row.invoice_number,
                                   "team": str(team_id)})
