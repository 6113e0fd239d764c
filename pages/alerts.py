"""Alerts: the signed-in person's inbox in the organization in view. Budget thresholds
crossed, forecasts to exceed and anomalies, newest first, filtered by state, kind and budget
(all in the URL); picking one opens it with the apps and machines behind it."""

import streamlit as st

from fleetspend.alerts import inbox
from fleetspend.alerts.evaluate import KINDS
from fleetspend.ui import access, alert_views, database, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.alert_views import ALL
from fleetspend.ui.errors import database_errors_stop_the_page

KEY = alert_views.INBOX_KEY
ALERT_PAGE = "pages/alert.py"
STATES = {"unread": "Unread", "open": "Not acknowledged", "all": "All"}
KIND_LABELS = {"actual": "Actual spend", "forecast": "Forecast", "anomaly": "Anomaly"}


visit = access.require(access.USAGE, "alerts")
if visit.caller.is_staff:
    access.refuse("Alerts are each customer's own inbox; the organization's budgets are on "
                  "the Budgets page.")
st.title("Alerts")

with database_errors_stop_the_page("your alerts"):
    alerts = alert_views.inbox_of(visit, visit.org_in_view, visit.caller.actor_id)
budgets = dict(zip(alerts.budget_id.dropna().astype(int).astype(str), alerts.budget_name.dropna(),
                   strict=True))
reader = url_state.reader()
state = reader.choice("show", STATES, "unread")
kind = reader.choice("kind", [ALL, *KINDS], ALL)
budget = reader.choice("budget", [ALL, *budgets], ALL)
muted = reader.flag("muted", False)
url_state.show_notices(reader.notices)

columns = st.columns([2, 2, 2, 1])
for column, name, value, options, labels in (
        (columns[0], "show", state, list(STATES), STATES),
        (columns[1], "kind", kind, [ALL, *KINDS], {ALL: "Every kind", **KIND_LABELS}),
        (columns[2], "budget", budget, [ALL, *budgets], {ALL: "Every budget", **budgets})):
    st.session_state[KEY + name] = value
    column.selectbox(name.title(), options, format_func=labels.__getitem__, key=KEY + name,
                     on_change=alert_views.filter_changed, args=(name,))
st.session_state[KEY + "muted"] = muted
columns[3].toggle("Show muted", key=KEY + "muted", on_change=alert_views.filter_changed,
                  args=("muted",))

picked_alerts = alert_views.shown(alerts, state, kind, budget, muted)
if picked_alerts.empty:
    st.info("No alerts here. Alerts fire when a budget's spend or forecast crosses one of "
            "its thresholds, and when spend is far off its recent pattern.",
            icon=":material/notifications_none:")
    st.stop()
table = picked_alerts.assign(
    fired=picked_alerts.fired_at.map(lambda at: f"{at:%Y-%m-%d %H:%M} UTC"),
    what=picked_alerts.kind.map(KIND_LABELS),
    status=["acknowledged" if ack else "read" if read else "unread"
            for read, ack in zip(picked_alerts.is_read, picked_alerts.is_acknowledged,
                                 strict=True)])
picked = ui.picked_row(table, key=f"{KEY}table", column_order=[
    "fired", "title", "what", "budget_name", "status"], column_config={
    "fired": "Fired", "title": "Alert", "what": "Kind", "budget_name": "Budget",
    "status": "State"}, open_label="Open an alert",
    row_labels=[f"{title} ({fired})" for title, fired in zip(table.title, table.fired,
                                                           strict=True)])
st.caption("Pick an alert to see why it fired: the apps and machines behind it.")
unread = picked_alerts[~picked_alerts.is_read]
if len(unread) and st.button(f"Mark {len(unread)} as read", key=f"{KEY}read_all"):
    alert_views.then_rerun(lambda: inbox.mark_read(
        database.primary(), visit.caller, visit.org_in_view,
        [int(alert_id) for alert_id in unread.alert_id]), alert_views.inbox_of.clear)
if picked is not None:
    st.switch_page(ALERT_PAGE, query_params={**ui.access_params(visit),
                                             "alert": str(picked["alert_id"])})
