"""Support audit trail: every support engineer's audited work (page views, searches, support
access, credit notes, evidence exports), newest first, filtered by UTC dates, engineer,
organization, action and ticket. The filters live in the URL."""

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from fleetspend.reads import support
from fleetspend.ui import access, console, database, url_state
from fleetspend.ui.drilldown import csv_download
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

FORM_KEY = "support_audit_filters"
DEFAULT_DAYS = 7
ALL_ACTIONS = ""
# the URL parameters of the filters
PARAMS = ("from", "to", "engineer", "in_org", "action", "ticket")
EARLIEST = date(2020, 1, 1)  # before any support activity

visit = access.require(access.SUPPORT_CONSOLE, "support_audit")
st.title("Support audit trail")
st.caption("What support engineers did, in organizations and in this console. Customers' "
           "admins see their own organization's part on their Support access log.")


today = datetime.now(UTC).date()
reader = url_state.reader()
default_first = today - timedelta(days=DEFAULT_DAYS - 1)
first = reader.day("from", default_first, EARLIEST, today)
last = reader.day("to", today, EARLIEST, today)
if last < first:
    reader.notices.append(md_format("Ignored the dates {first} to {last}: they end before they "
                                    "start; showing the last {days} days.", first=first,
                                    last=last, days=DEFAULT_DAYS))
    first, last = default_first, today
action = reader.choice("action", [ALL_ACTIONS, *support.ACTIONS], ALL_ACTIONS)
engineer, org_slug, ticket = (reader.text(name) for name in ("engineer", "in_org", "ticket"))
url_state.show_notices(reader.notices)

with st.form(FORM_KEY):
    dates, engineer_column, org_column = st.columns(3)
    picked = dates.date_input("Days (UTC)", value=(first, last), key="support_audit_days")
    typed_engineer = engineer_column.text_input("Engineer email", value=engineer,
                                                key="support_audit_engineer")
    typed_org = org_column.text_input("Organization slug", value=org_slug,
                                      key="support_audit_org")
    action_column, ticket_column = st.columns(2)
    options = [ALL_ACTIONS, *support.ACTIONS]
    chosen_action = action_column.selectbox(
        "Action", options, index=options.index(action), key="support_audit_action",
        format_func=lambda name: support.ACTIONS.get(name, "Every action"))
    typed_ticket = ticket_column.text_input("Ticket", value=ticket, key="support_audit_ticket")
    if st.form_submit_button("Show", type="primary"):
        days = list(picked) if isinstance(picked, tuple | list) else [picked]
        chosen = {"from": days[0].isoformat(), "to": days[-1].isoformat(),
                  "engineer": typed_engineer.strip(), "in_org": typed_org.strip(),
                  "action": chosen_action, "ticket": typed_ticket.strip()}
        for name in PARAMS:
            if chosen[name]:
                st.query_params[name] = chosen[name]
            else:
                st.query_params.pop(name, None)
        st.rerun()

chosen_filter = support.ActivityFilter(
    since=datetime.combine(first, time(), UTC),
    until=datetime.combine(last + timedelta(days=1), time(), UTC),
    engineer_email=engineer, org_slug=org_slug, action=action or None, support_ticket=ticket)
with database_errors_stop_the_page("the support audit trail"):
    events = database.read(visit, support.activity, chosen_filter)

if events.empty:
    st.info("No support activity matches these filters.", icon=":material/history:")
    st.stop()
if len(events) == support.ACTIVITY_LIMIT:
    st.caption(md_format("The newest {limit:,} events; narrow the filters for more.",
                         limit=support.ACTIVITY_LIMIT))
shown = events.assign(
    action=events["action"].map(lambda name: support.ACTIONS.get(name, name)),
    detail=events["detail"].map(console.describe_detail),
).fillna("")
st.dataframe(shown, hide_index=True, key="support_audit_table", column_config={
    "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "engineer_name": "Engineer", "engineer_email": "Email", "action": "Action",
    "org_slug": "Organization", "support_ticket": "Ticket", "detail": "Detail",
}, placeholder="")
csv_download("Download CSV", shown, file_name=f"support-audit-{first}-{last}.csv",
              key="support_audit_csv")
