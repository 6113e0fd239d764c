"""Budgets of the organization in view: each one's month so far against its amount, the
forecast range and thresholds, and a chart of the month against the budget line; admins
create, change and archive them (each change audited by the database)."""

import streamlit as st

from fleetspend.ui import access
from fleetspend.ui import budget_views as views
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

visit = access.require(access.USAGE, "budgets")
st.title("Budgets")
views.show_done()

with st.spinner("Loading the budgets"), database_errors_stop_the_page("the budgets"):
    now, progress, values = views.load_budgets(visit, visit.org_in_view)

if now is not None:
    st.caption(md_format(
        "As of {through:%Y-%m-%d %H:%M} UTC, where usage is complete through. A month's "
        "figures are estimated until its invoice is finalized, then they are the invoice's.",
        through=now.through_at))
if not progress:
    st.info("No budgets yet. An admin of the organization can create one below: for the "
            "whole organization, a team or an app.", icon=":material/savings:")
for budget_progress in progress:
    views.show_progress(budget_progress)

if visit.may(access.OVERSIGHT) and not visit.caller.is_staff:
    st.subheader("Create or change a budget")
    if not values["team"] or not values["app"]:
        st.info("Budgets for a team or an app need the organization's teams and apps, which "
                "arrive with its first usage.", icon=":material/info:")
    views.budget_form(visit, [p.budget for p in progress], values["team"], values["app"],
                      views.load_budgets.clear)
