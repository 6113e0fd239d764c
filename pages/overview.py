"""Spend overview of the organization in view: this month so far, where it goes, what is odd.

"Now" is where the usage feed stands (usage complete through), not the clock. The month's
figure is estimated until its invoice is finalized. Clicking a bar, a day or a map bubble
opens the explorer filtered to it. The treemap by team, app and VM size is drawn once its
expander is opened.
"""

from datetime import timedelta

import streamlit as st

from fleetspend.money import change_percent, dollars
from fleetspend.reads.dimensions import DIMENSIONS
from fleetspend.ui import access, charts, frame
from fleetspend.ui import overview_views as views
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format

TOP_TITLES = {"app": "Top apps", "region": "Top regions", "preset": "Top VM sizes"}


visit = access.require(access.USAGE, "overview")
st.title("Spend overview")

with st.spinner("Loading this month's spend"), database_errors_stop_the_page("the overview"):
    overview, fresh = views.load(visit, visit.org_in_view, visit.may(access.BILLING))

now = frame.stop_without_usage(overview.now, fresh)

views.drill_on_selection(now)
st.caption(md_format(
    "As of {through:%Y-%m-%d %H:%M} UTC: usage is complete through then, so that is \"now\" "
    "on this page (not the clock). Month: {month:%B %Y}.", through=now.through_at,
    month=now.month_start))

status = "invoiced" if overview.is_invoiced else "estimated"
change = change_percent(overview.month_cents, overview.previous_cents)
columns = st.columns(4)
columns[0].metric(
    f"Month to date ({status})", dollars(overview.month_cents),
    delta=None if change is None else f"{change}% vs same point last month",
    delta_color="inverse",
    help=f"{now.month_start:%b %d} to {now.last_day:%b %d}, against "
         f"{now.month_start - timedelta(days=1):%b} 1 to "
         f"{overview.previous_through:%b %d}: {dollars(overview.previous_cents)}.")
forecast = overview.forecast
if forecast is None:
    columns[1].metric("Forecast to month end", "not enough history")
else:
    columns[1].metric(
        "Forecast to month end (estimated)", dollars(forecast.expected_cents),
        help=f"Spend so far plus the last 7 days' daily rate over the "
             f"{now.remaining_days:.1f} days left; the range uses the slowest and fastest "
             f"week of the last {forecast.basis_days} days.")
    columns[1].caption(md_format("Range {low} to {high}", low=dollars(forecast.low_cents),
                                 high=dollars(forecast.high_cents)))
columns[2].metric("Same point last month", dollars(overview.previous_cents))
if not overview.may_see_invoices:
    columns[3].metric("Upcoming invoice", "admins only")
elif overview.invoice is None:
    columns[3].metric("Upcoming invoice", "not drafted yet")
else:
    invoice = overview.invoice
    columns[3].metric(md_format("Invoice {number} ({status})",
                                number=invoice["invoice_number"], status=invoice["status"]),
                      dollars(invoice["total_cents"]))
    if invoice["status"] == "draft" and invoice["subtotal_cents"] != overview.month_cents:
        columns[3].caption("Drafted before the latest usage: the month to date counts usage "
                           "since, the next draft will too.")

st.subheader("Anomalies")
if not overview.anomalies:
    st.success("Nothing far off its recent pattern in the last 60 days.",
               icon=":material/check_circle:")
for anomaly in overview.anomalies[:6]:
    st.warning(md(anomaly.explanation), icon=":material/warning:")

st.subheader(md_format("Where {month:%B}'s money goes", month=now.month_start))
top_columns = st.columns(3)
for column, dimension in zip(top_columns, views.TOP_DIMENSIONS, strict=True):
    top = overview.top[dimension]
    if not top:
        column.info(md_format("No spend by {what} this month.",
                              what=DIMENSIONS[dimension].title.lower()))
        continue
    with column:
        charts.draw(charts.bar_share([s.key for s in top], [s.label for s in top],
                                     [s.amount_cents for s in top],
                                     [s.share_percent for s in top], TOP_TITLES[dimension]),
                    key=views.TOP_CHART_KEY.format(dimension=dimension), clickable=True)
        picked = charts.keyboard_pick("Open in the explorer", {s.key: s.label for s in top},
                                      key=f"overview_open_{dimension}")
    if picked is not None:
        views.drill_into_month(now, dimension, picked)

st.subheader("Daily spend, last 60 days")
charts.draw(charts.daily_bars(list(overview.daily.period_start_date),
                              [int(c) for c in overview.daily.amount_cents],
                              charts.anomaly_marks(overview.anomalies)),
            key=views.DAILY_CHART_KEY, clickable=True)

st.subheader("By region")
charts.draw(charts.region_map(overview.regions), key=views.MAP_CHART_KEY, clickable=True)

# read and drawn only once opened: the browser draws a page's charts in one go before painting
# any, and this one (a box per team, app and VM size) costs more than all the others together
treemap = st.expander("By team, app and VM size", key=views.TREEMAP_OPEN_KEY,
                      on_change="rerun")
if treemap.open:
    with treemap:
        charts.draw(charts.treemap(views.load_treemap(visit, visit.org_in_view, now.month_start)),
                    key=views.TREEMAP_CHART_KEY)

st.caption(fresh.describe())
