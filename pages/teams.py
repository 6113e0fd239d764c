"""Team comparison for organization admins: which teams drive spend, how that changes, and why.

Teams side by side for a period (spend, share, change against the period of equal length just
before, machine-hours, cost per machine-hour, region and VM-size mix), spend per team over
time, the teams and apps that moved most with the reason in regions, VM sizes or machine
counts, and one team's apps with links into the explorer and the invoices. The period starts
as the last whole calendar month (as invoices do; whole months read the monthly rollups).
Everything lives in the URL (from, to, grain, team); bad values fall back with a notice.
"""

from datetime import timedelta

import streamlit as st

from fleetspend.reads import teams
from fleetspend.reads.comparison import PeriodComparison
from fleetspend.ui import access, charts, frame, tables, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui import team_views as views
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

visit = access.require(access.BILLING, "teams")
st.title("Team comparison")

with st.spinner("Loading"), database_errors_stop_the_page("the team comparison"):
    names, last_day, fresh, first_day, last_usage_day = views.load_context(visit,
                                                                           visit.org_in_view)
last_day = frame.stop_without_usage(last_day, fresh)
if not names:
    st.info("This organization has no teams yet.", icon=":material/group_off:")
    st.stop()

state, notices = views.read_state(names, last_day)
views.write(state)
url_state.copy_link()
url_state.show_notices(notices)
views.follow_trend_click(state)

views.controls(state, last_day)
period = teams.Period(state["from"], state["to"] + timedelta(days=1))
with st.spinner("Comparing teams"), database_errors_stop_the_page("the team comparison"):
    comparison, trend, invoices = views.load_comparison(
        visit, visit.org_in_view, period, state["grain"], names,
        None if state["team"] == views.NO_TEAM else int(state["team"]), last_usage_day)

if comparison.is_empty:
    st.info(md_format("No spend from {start} to {end}: nothing to compare. Pick other dates.",
                      start=period.previous_start_date, end=period.last_day),
            icon=":material/filter_alt_off:")
    st.caption(fresh.describe())
    st.stop()

compared = PeriodComparison(period.start_date, period.end_date, first_day)
views.metrics(comparison, period, compared)

st.subheader("Teams side by side")
table = teams.export_table(comparison.teams, what="Team", total_cents=comparison.total_cents,
                           previous_total_cents=comparison.previous_total_cents)
table = tables.like_for_like(table, compared)
picked = ui.picked_row(table, key=views.table_key(state),
                       column_order=[c for c in table.columns if c != "Team id"],
                       column_config=views.column_config(table),
                       open_label="Show a team's apps", row_labels=list(table["Team"]))
st.caption("Pick a team to see its apps. Spend is the invoice's cents for invoiced months "
           "(a team's are its apps' share), estimated for months not yet invoiced; average "
           "machines are machine-hours over the hours of the period.")
ui.csv_download("Download the comparison (CSV)", table.drop(columns=["Team id"]),
                file_name=f"fleetspend-teams-{state['from']}-{state['to']}.csv",
                key=f"{views.KEY}csv")
if picked is not None and picked["Team id"] and picked["Team id"] != state["team"]:
    views.go({**state, "team": picked["Team id"]})

st.subheader("Spend per team over time")
order = list(trend.table.series_key)
labels = dict(zip(trend.table.series_key, trend.table.series_label, strict=True))
trend_range = teams.trend_query(period, state["grain"])
shown_from = max(trend_range.start_date, first_day or trend_range.start_date)
charts.draw(charts.stacked(trend.cells, order, labels, "USD", state["grain"],
                           (shown_from, period.last_day)), key=views.TREND_KEY, clickable=True)
st.caption(md_format("{span}. Click a team to see its apps.",
                     span=charts.trend_span(trend.cells, state["grain"], trend_range.start_date,
                                            shown_from, period.last_day)))

st.subheader("Top movers")
left, right = st.columns(2)
with left:
    views.show_movers("Teams", [m for m in comparison.movers if m.kind == "team"])
with right:
    views.show_movers("Apps", [m for m in comparison.movers if m.kind == "app"])

if state["team"] != views.NO_TEAM:
    views.team_apps(visit, state, comparison, compared, invoices, period, names)
st.caption(fresh.describe())
