"""Teams and members of the organization in view: for its admins and support under a grant."""

import streamlit as st

from fleetspend.ui import access, admin_views, database
from fleetspend.ui.errors import database_errors_stop_the_page

visit = access.require(access.BILLING, "teams_and_members")
st.title("Teams and members")


with database_errors_stop_the_page("the teams and members"):
    teams, members = database.read(visit, admin_views.teams_and_members, visit.org_in_view)

st.subheader("Teams")
st.dataframe(
    teams.drop(columns="team_id"), hide_index=True,
    column_config={
        "name": "Team",
        "apps": st.column_config.NumberColumn("Apps", format="%d"),
        "running_machines": st.column_config.NumberColumn("Machines (not destroyed)",
                                                          format="%d"),
    },
    placeholder="",
)
st.subheader("Members")
st.dataframe(
    members.drop(columns="user_id"), hide_index=True,
    column_config={
        "name": "Name", "email": "Email", "role": "Role",
        "joined_at": st.column_config.DatetimeColumn("Joined (UTC)", format="YYYY-MM-DD"),
    },
    placeholder="",
)
