"""Alert delivery for the organization's admins: who gets alerts by email, which webhooks
receive them (signed with a secret the app never shows again), and the delivery log: every
attempt, when, to where, and what came back. Every change is audited by the database."""

import streamlit as st

from fleetspend.alerts import settings
from fleetspend.ui import access, alert_views, database
from fleetspend.ui import budget_views as views
from fleetspend.ui.errors import database_errors_stop_the_page

KEY = "alert_settings_"


visit = access.require(access.OVERSIGHT, "alert_settings")
st.title("Alert delivery")
views.show_done()
with database_errors_stop_the_page("the alert delivery settings"):
    channels, log = alert_views.delivery(visit, visit.org_in_view)
emails = channels[channels.channel == "email"]
webhooks = channels[channels.channel == "webhook"]
engine = database.primary

st.subheader("Email")
st.caption("Each alert goes out once, as one email to these addresses, through the SMTP "
           "server the operators configured (docs/alerts.md).")
with st.form(f"{KEY}emails"):
    typed = st.text_area("Recipients (one a line, or separated by commas)",
                         value="\n".join(emails.target))
    if st.form_submit_button("Save recipients", icon=":material/save:"):
        alert_views.save_delivery(lambda: settings.set_recipients(
            engine(), visit.caller, visit.org_in_view, settings.parse_recipients(typed)),
            "The recipients are saved.")

st.subheader("Webhooks")
st.caption("A JSON POST that a Slack incoming webhook accepts, signed with HMAC-SHA256 of "
           "\"timestamp.body\" in X-Fleetspend-Signature (docs/alerts.md); failures are "
           "retried with backoff.")
if not webhooks.empty:
    st.dataframe(webhooks.assign(webhook_id=webhooks.webhook_id.astype(int)), hide_index=True,
                 column_order=["name", "target", "is_enabled"],
                 column_config={"name": "Name", "target": "URL", "is_enabled": "On"},
                 placeholder="")
    labels = dict(zip(webhooks.webhook_id.astype(int), webhooks.name, strict=True))
    chosen = st.selectbox("Webhook", list(labels), format_func=labels.__getitem__,
                          key=f"{KEY}webhook")
    enabled = bool(webhooks[webhooks.webhook_id == chosen].is_enabled.iloc[0])
    if st.button("Turn off" if enabled else "Turn on", key=f"{KEY}toggle"):
        alert_views.save_delivery(lambda: settings.set_webhook_enabled(
            engine(), visit.caller, visit.org_in_view, chosen, not enabled),
            "The webhook is changed.")
with st.form(f"{KEY}add", clear_on_submit=True):
    name = st.text_input("Name")
    url = st.text_input("URL (https://...)")
    secret = st.text_input("Signing secret (at least 16 characters; shown only now)",
                           type="password")
    if st.form_submit_button("Add webhook", icon=":material/add_link:"):
        alert_views.save_delivery(lambda: settings.add_webhook(
            engine(), visit.caller, visit.org_in_view, name, url, secret),
            "The webhook is added.")

st.subheader("Delivery log")
if log.empty:
    st.info("Nothing sent yet.", icon=":material/outbox:")
else:
    st.dataframe(log.drop(columns="attempt_id"), hide_index=True, column_config={
        "attempted_at": st.column_config.DatetimeColumn("Attempted (UTC)",
                                                        format="YYYY-MM-DD HH:mm:ss"),
        "alert_title": "Alert", "channel": "Channel", "target": "To", "is_success": "Sent",
        "status_code": "Answer", "error": "Error", "duration_ms": "ms",
        "delivery_status": "Delivery"}, placeholder="")
