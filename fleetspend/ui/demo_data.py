"""The empty state's offer to load the demo data, with a live progress bar."""

from __future__ import annotations

import streamlit as st

from fleetspend import db, schema


def offer_demo_data() -> None:
    """A button that migrates and loads the demo data into the (empty) primary."""
    if not st.button("Load the demo data", icon=":material/download:", key="demo_data_load"):
        return
    from fleetspend.seed import generate

    bar = st.progress(0.0, text="Preparing the database")
    engine = db.primary_engine()
    schema.upgrade(engine)

    def progress(fraction: float, message: str) -> None:
        bar.progress(fraction, text=message)

    generate(engine, scale="demo", seed=1, progress=progress)
    st.rerun()
