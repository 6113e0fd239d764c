"""fleetspend's server: app.py on Streamlit's ASGI server, with its bundles sent compressed
and its connections' responses sent without delay.

``fleetspend demo`` runs ``streamlit run serve.py``; ``streamlit run app.py`` serves the same
app with Streamlit's bundles uncompressed (see fleetspend/ui/assets.py for what that costs)
and every keep-alive response 40 ms late (fleetspend/ui/nodelay.py).
"""

import streamlit as st

from fleetspend.ui import nodelay
from fleetspend.ui.assets import MIDDLEWARE

nodelay.on_every_connection()
app = st.App("app.py", middleware=MIDDLEWARE)
