"""One alert: what fired and why, the view that shows it, and the apps and machines of its
scope over its period, dearest first; acknowledge it (which also marks it read for the
signed-in person), or mute its kind for its budget."""

import streamlit as st

from fleetspend.alerts import inbox
from fleetspend.money import dollars
from fleetspend.ui import access, alert_views, database, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format

KEY = "alert_"
EXPLORER = "pages/explorer.py"
MACHINE = "pages/machine.py"
TOP_APPS = 8
TOP_MACHINES = 10


visit = access.require(access.USAGE, "alert")
with url_state.naming("an alert"):
    alert_id = url_state.reader().required_id("alert")
user_id = None if visit.caller.is_staff else visit.caller.actor_id
with database_errors_stop_the_page("the alert"):
    found = alert_views.alert_and_cause(visit, visit.org_in_view, user_id, alert_id)
if found is None:
    st.warning("This organization has no such alert.", icon=":material/search_off:")
    st.page_link("pages/alerts.py", label="All alerts", query_params=ui.access_params(visit))
    st.stop()
alert, cause = found

st.title(md(alert["title"]))
st.markdown(md(alert["explanation"]))
st.caption(md_format("Fired {at:%Y-%m-%d %H:%M} UTC. {state}.", at=alert["fired_at"],
                     state="Acknowledged" if alert["is_acknowledged"] else "Not acknowledged"))
params = {**ui.access_params(visit), **alert["link_params"]}
st.page_link(EXPLORER, label="Open this view in the usage explorer", query_params=params,
             icon=":material/query_stats:")

if user_id is not None:
    acknowledge, mute = st.columns(2)
    if not alert["is_acknowledged"] and acknowledge.button(
            "Acknowledge", key=f"{KEY}acknowledge", icon=":material/done_all:"):
        alert_views.then_rerun(lambda: inbox.acknowledge(
            database.primary(), visit.caller, visit.org_in_view, alert_id),
            alert_views.alert_and_cause.clear)
    budget_id = None if alert["kind"] == "anomaly" else int(alert["budget_id"])
    what = ("anomaly alerts" if budget_id is None
            else f"{alert['kind']} alerts of {alert['budget_name']}")
    label = f"{'Unmute' if alert['is_muted'] else 'Mute'} {what} for me"
    if mute.button(label, key=f"{KEY}mute", icon=":material/notifications_off:"):
        alert_views.then_rerun(lambda: inbox.set_muted(
            database.primary(), visit.caller, visit.org_in_view, alert["kind"], budget_id,
            not alert["is_muted"]), alert_views.alert_and_cause.clear)

st.subheader(md_format("Apps behind it, {start:%b %d} to {end:%b %d} (UTC)",
                       start=cause.start_date, end=cause.end_date))
if cause.apps.empty:
    st.info("No app spent anything in this period.", icon=":material/inbox:")
period = {"from": cause.start_date.isoformat(), "to": cause.end_date.isoformat(),
          "grain": "day", **ui.access_params(visit)}
for app in cause.apps.head(TOP_APPS).itertuples():
    st.page_link(EXPLORER, label=md_format("{app} ({team}): {amount}", app=app.app_name,
                                           team=app.team_name, amount=dollars(app.amount_cents)),
                 query_params={**period, "app": str(app.app_id), "by": "region"},
                 icon=":material/apps:")

st.subheader("Machines behind it")
for machine in cause.machines.head(TOP_MACHINES).itertuples():
    label = md_format("{machine} of {app} in {region}: {amount} over {days} days",
                      machine=machine.machine_id, app=machine.app_name,
                      region=machine.region_code, amount=dollars(machine.amount_cents),
                      days=machine.days)
    if visit.may(access.BILLING):  # its runs and lifecycle events, on the machine's page
        st.page_link(MACHINE, label=label, icon=":material/dns:", query_params={
            **ui.access_params(visit), "machine": machine.machine_id})
    else:
        st.markdown(label)
