"""fleetspend's server: app.py on Streamlit's ASGI server, with its bundles sent compressed.

``fleetspend demo`` runs ``streamlit run serve.py``; ``streamlit run app.py`` serves the same
app with Streamlit's bundles uncompressed (see fleetspend/ui/assets.py for what that costs).
"""

import streamlit as st

from fleetspend.ui.assets import MIDDLEWARE

app = st.App("app.py", middleware=MIDDLEWARE)
