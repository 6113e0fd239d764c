"""fleetspend: the Streamlit entry point. Page config, navigation and the frame of every page."""

import streamlit as st

st.set_page_config(page_title="fleetspend", page_icon=":material/savings:", layout="wide")

navigation = st.navigation(
    {
        "Spend": [
            st.Page("pages/organizations.py", title="Organizations",
                    icon=":material/corporate_fare:", default=True),
        ],
    }
)
navigation.run()
