"""Organizations with their machine counts: the read path from the replica to the screen."""

import pandas as pd
import streamlit as st

from fleetspend import db
from fleetspend.ui.demo_data import offer_demo_data
from fleetspend.ui.errors import database_errors_stop_the_page
from queries import sql

st.title("Organizations")

with database_errors_stop_the_page("the organizations"), db.read_engine().connect() as connection:
    organizations = pd.DataFrame(connection.execute(sql("organizations_machine_counts")).mappings())

if organizations.empty:
    st.info(
        "There are no organizations yet. Load usage with `fleetspend ingest FILE`, "
        "or demo data with `fleetspend seed --scale demo` or the button below.",
        icon=":material/inbox:",
    )
    offer_demo_data()
    st.stop()

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
