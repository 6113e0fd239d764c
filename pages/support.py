"""Support access: a support engineer opens an organization for a ticket, for a limited time.

Opened from a search match (``?open=<slug>&then=<kind>&...``), the slug is filled in and, once
the grant is open, the page continues to the match under it."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from fleetspend import auth
from fleetspend.ui import access, console, database, url_state
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

FORM_KEY = "support_open"
SLUG_KEY = "support_org_slug"
TICKET_KEY = "support_ticket"
REASON_KEY = "support_reason"
MINUTES_KEY = "support_minutes"
REVOKE_FORM_KEY = "support_revoke"
DURATIONS_MINUTES = [15, 30, 60, 120, 240, 480]

visit = access.require(access.SUPPORT_CONSOLE, "support_access")
st.title("Support access")
st.caption("You see an organization only while a support grant you opened is active. "
           "Opening one is recorded in the organization's audit log, which its admins read.")

reader = url_state.reader()
opened = reader.text(console.OPEN_PARAM)
url_state.show_notices(reader.notices)

with st.form(FORM_KEY):
    slug = st.text_input("Organization slug", key=SLUG_KEY, value=opened)
    ticket = st.text_input("Support ticket", key=TICKET_KEY)
    reason = st.text_area("Why you need to look", key=REASON_KEY)
    minutes = st.selectbox("For", DURATIONS_MINUTES, index=2, key=MINUTES_KEY,
                           format_func=lambda m: f"{m} minutes" if m < 60 else f"{m // 60} h")
    submitted = st.form_submit_button("Open support access", type="primary")

if submitted:
    try:
        grant = auth.open_support_access(database.primary(), visit.caller, org_slug=slug,
                                         ticket=ticket, reason=reason,
                                         duration=timedelta(minutes=minutes))
    except auth.SupportAccessError as error:
        st.error(md_format("No access opened: {error}.", error=error), icon=":material/block:")
    else:
        access.remember_opened(grant)
        then = console.continuation(st.query_params)
        if then is not None:
            page, params = then
            st.switch_page(page, query_params={access.GRANT_PARAM: str(grant.grant_id),
                                               **params})
        st.query_params[access.GRANT_PARAM] = str(grant.grant_id)
        st.rerun()

access.revoked_notice(REVOKE_FORM_KEY)
with database_errors_stop_the_page("your support grants"):
    grants = database.read(visit, auth.grants_of, visit.caller)

st.subheader("Your support grants")
if not grants:
    st.info("You have not opened support access to any organization.", icon=":material/info:")
    st.stop()
now = datetime.now(UTC)
st.dataframe(
    pd.DataFrame({
        "grant": [grant.grant_id for grant in grants],
        "organization": [grant.org_name for grant in grants],
        "ticket": [grant.support_ticket for grant in grants],
        "reason": [grant.reason for grant in grants],
        "opened": [grant.granted_at for grant in grants],
        "expires": [grant.expires_at for grant in grants],
        "active": [grant.is_active(now) for grant in grants],
    }),
    hide_index=True,
    column_config={
        "grant": st.column_config.NumberColumn("Grant", format="%d"),
        "organization": "Organization",
        "opened": st.column_config.DatetimeColumn("Opened (UTC)", format="YYYY-MM-DD HH:mm"),
        "expires": st.column_config.DatetimeColumn("Expires (UTC)", format="YYYY-MM-DD HH:mm"),
    },
    placeholder="",
)
active = {grant.grant_id: grant for grant in grants if grant.is_active(now)}
if active:
    access.revoke_form(REVOKE_FORM_KEY, visit, {
        grant_id: f"{grant.org_name}, ticket {grant.support_ticket}"
        for grant_id, grant in active.items()})
