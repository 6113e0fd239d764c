"""Overview: the organizations the signed-in person can see, with their machine counts."""

import pandas as pd
import streamlit as st

from fleetspend.ui import access
from fleetspend.ui.errors import database_errors_stop_the_page
from queries import sql

visit = access.require(access.USAGE, "overview")
st.title("Organizations")

with database_errors_stop_the_page("the organizations"):
    organizations = visit.read(
        lambda snapshot: pd.DataFrame(
            snapshot.connection.execute(sql("organizations_machine_counts")).mappings().all(),
            columns=["org_id", "slug", "name", "machines", "running_machines"]),
        narrow=False,
    )

left, right = st.columns(2)
left.metric("Organizations", f"{len(organizations):,}")
right.metric("Machines not destroyed", f"{int(organizations['running_machines'].sum()):,}")
st.dataframe(
    organizations.drop(columns="org_id"),
    hide_index=True,
    column_config={
        "slug": "Slug",
        "name": "Organization",
        "machines": st.column_config.NumberColumn("Machines (ever)", format="%d"),
        "running_machines": st.column_config.NumberColumn("Machines (not destroyed)", format="%d"),
    },
)
