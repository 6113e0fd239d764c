"""Support access log: who from support opened the organization's data, when and why; an
admin can end a support grant that is still active."""

from datetime import UTC, datetime

import streamlit as st

from fleetspend.ui import access, admin_views, database
from fleetspend.ui.errors import database_errors_stop_the_page

REVOKE_FORM_KEY = "access_log_revoke"

visit = access.require(access.OVERSIGHT, "support_access_log")
st.title("Support access log")
st.caption("Every time a support engineer opens your organization's data they must name a "
           "ticket and a reason; their access expires on its own, and each page they view "
           "is recorded.")

access.revoked_notice(REVOKE_FORM_KEY)
with database_errors_stop_the_page("the support access log"):
    log = database.read(visit, admin_views.support_access_log, visit.org_in_view)

if log.empty:
    st.info("Nobody from support has opened this organization's data.",
            icon=":material/verified_user:")
    st.stop()

st.dataframe(
    log.drop(columns="grant_id"), hide_index=True,
    column_config={
        "engineer_name": "Engineer", "engineer_email": "Email",
        "support_ticket": "Ticket", "reason": "Reason",
        "granted_at": st.column_config.DatetimeColumn("Opened (UTC)",
                                                      format="YYYY-MM-DD HH:mm"),
        "expires_at": st.column_config.DatetimeColumn("Expires (UTC)",
                                                      format="YYYY-MM-DD HH:mm"),
        "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)",
                                                      format="YYYY-MM-DD HH:mm"),
        "pages_viewed": st.column_config.NumberColumn("Pages viewed", format="%d"),
        "last_viewed_at": st.column_config.DatetimeColumn("Last viewed (UTC)",
                                                          format="YYYY-MM-DD HH:mm"),
    },
    placeholder="",
)

now = datetime.now(UTC)
active = log[log["revoked_at"].isna() & (log["expires_at"] > now)]
if not active.empty:
    st.subheader("Active support access")
    access.revoke_form(REVOKE_FORM_KEY, visit, {
        int(row.grant_id): f"{row.engineer_name}, ticket {row.support_ticket}"
        for row in active.itertuples()})
