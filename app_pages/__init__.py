"""The pages of the app, one script each (run by app.py through st.navigation)."""
