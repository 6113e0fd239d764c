"""Support audit trail: every support engineer's audited work (page views, searches, support
access, credit notes, evidence exports), newest first, filtered by UTC dates, engineer,
organization, action and ticket. The filters live in the URL."""

import json
from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from fleetspend import support
from fleetspend.ui import access
from fleetspend.ui.drilldown import csv_download
from fleetspend.ui.errors import database_errors_stop_the_page

FORM_KEY = "support_audit_filters"
DEFAULT_DAYS = 7
ALL_ACTIONS = ""
# the URL parameters of the filters
PARAMS = ("from", "to", "engineer", "in_org", "action", "ticket")

visit = access.require(access.SUPPORT_CONSOLE, "support_audit")
st.title("Support audit trail")
st.caption("What support engineers did, in organizations and in this console. Customers' "
           "admins see their own organization's part on their Support access log.")


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        st.warning(f"{value!r} is not a date like 2026-10-31; showing {default} instead.",
                   icon=":material/warning:")
        return default


today = datetime.now(UTC).date()
params = st.query_params
first = _day(params.get("from"), today - timedelta(days=DEFAULT_DAYS - 1))
last = _day(params.get("to"), today)
action = params.get("action", ALL_ACTIONS)
if action not in support.ACTIONS:
    action = ALL_ACTIONS

with st.form(FORM_KEY):
    dates, engineer_column, org_column = st.columns(3)
    picked = dates.date_input("Days (UTC)", value=(first, last), key="support_audit_days")
    engineer = engineer_column.text_input("Engineer email", value=params.get("engineer", ""),
                                          key="support_audit_engineer")
    org_slug = org_column.text_input("Organization slug", value=params.get("in_org", ""),
                                     key="support_audit_org")
    action_column, ticket_column = st.columns(2)
    options = [ALL_ACTIONS, *support.ACTIONS]
    chosen_action = action_column.selectbox(
        "Action", options, index=options.index(action), key="support_audit_action",
        format_func=lambda name: support.ACTIONS.get(name, "Every action"))
    ticket = ticket_column.text_input("Ticket", value=params.get("ticket", ""),
                                      key="support_audit_ticket")
    if st.form_submit_button("Show", type="primary"):
        days = list(picked) if isinstance(picked, tuple | list) else [picked]
        chosen = {"from": days[0].isoformat(), "to": days[-1].isoformat(),
                  "engineer": engineer.strip(), "in_org": org_slug.strip(),
                  "action": chosen_action, "ticket": ticket.strip()}
        for name in PARAMS:
            if chosen[name]:
                st.query_params[name] = chosen[name]
            else:
                st.query_params.pop(name, None)
        st.rerun()

chosen_filter = support.ActivityFilter(
    since=datetime.combine(first, time(), UTC),
    until=datetime.combine(last + timedelta(days=1), time(), UTC),
    engineer_email=params.get("engineer"), org_slug=params.get("in_org"),
    action=action or None, support_ticket=params.get("ticket"))
with database_errors_stop_the_page("the support audit trail"):
    events = visit.read(lambda snapshot: support.activity(snapshot.connection, chosen_filter),
                        narrow=False)

if events.empty:
    st.info("No support activity matches these filters.", icon=":material/history:")
    st.stop()
if len(events) == support.ACTIVITY_LIMIT:
    st.caption(f"The newest {support.ACTIVITY_LIMIT:,} events; narrow the filters for more.")
shown = events.assign(
    action=events["action"].map(lambda name: support.ACTIONS.get(name, name)),
    detail=events["detail"].map(lambda detail: json.dumps(detail, sort_keys=True)),
)
st.dataframe(shown, hide_index=True, key="support_audit_table", column_config={
    "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "engineer_name": "Engineer", "engineer_email": "Email", "action": "Action",
    "org_slug": "Organization", "support_ticket": "Ticket", "detail": "Detail",
})
csv_download("Download CSV", shown, file_name=f"support-audit-{first}-{last}.csv",
              key="support_audit_csv")
