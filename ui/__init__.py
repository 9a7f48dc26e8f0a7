"""Streamlit-only helpers: session glue, cached data access, widgets. Pages build on these."""
