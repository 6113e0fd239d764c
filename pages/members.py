"""Teams and members of the organization in view: for its admins and support under a grant."""

import pandas as pd
import streamlit as st

from fleetspend.ui import access
from fleetspend.ui.errors import database_errors_stop_the_page
from queries import sql

visit = access.require(access.BILLING, "teams_and_members")
st.title("Teams and members")


def load(snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = {"org_id": visit.org_id}
    teams = pd.DataFrame(snapshot.connection.execute(sql("org_teams"), params).mappings().all(),
                         columns=["team_id", "name", "apps", "running_machines"])
    members = pd.DataFrame(
        snapshot.connection.execute(sql("org_members"), params).mappings().all(),
        columns=["user_id", "name", "email", "role", "joined_at"])
    return teams, members


with database_errors_stop_the_page("the teams and members"):
    teams, members = visit.read(load)

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
