"""fleetspend: the Streamlit entry point. Sign-in, the role's menu and the frame of every page;
a run (frame and page) is one page view, read in one snapshot."""

import streamlit as st

from fleetspend.ui import access, frame

# an emoji favicon is drawn in the page; a Material one is fetched from fonts.gstatic.com
st.set_page_config(page_title="fleetspend", page_icon="💰", layout="wide")

with access.page_view():
    email = access.signed_in_email()
    visit = access.current_visit()
    if email and visit is None:
        frame.unknown_person(email)
    if visit is not None:
        frame.sidebar(visit)
        frame.read_notice(visit)
    frame.navigation(visit).run()
