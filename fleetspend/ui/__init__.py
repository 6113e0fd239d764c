"""Streamlit-aware helpers shared by the pages: errors, formatting, URL state, charts."""
