"""fleetspend: the Streamlit entry point. Sign-in, the role's menu and the frame of every page."""

import streamlit as st

from fleetspend.ui import access, frame

st.set_page_config(page_title="fleetspend", page_icon=":material/savings:", layout="wide")

email = access.signed_in_email()
visit = access.resolve_visit(email) if email else None
if email and visit is None:
    frame.unknown_person(email)
if visit is not None:
    frame.sidebar(visit)
    frame.read_notice(visit)
frame.navigation(visit).run()
