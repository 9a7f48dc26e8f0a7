"""leverboard — is the sales strategy working? Page config, who is looking, and the router."""

from __future__ import annotations

import streamlit as st

from kpi.errors import KpiError
from ui import session, signin

st.set_page_config(page_title="leverboard", page_icon="📈", layout="wide")

PAGES = {
    "outputs": st.Page("app_pages/outputs.py", title="Outputs", icon=":material/monitoring:",
                       url_path="outputs"),
    "segments": st.Page("app_pages/segments.py", title="Segments", icon=":material/pie_chart:",
                        url_path="segments"),
    "team": st.Page("app_pages/team.py", title="Team levers", icon=":material/groups:",
                    url_path="team"),
    "coaching": st.Page("app_pages/coaching.py", title="Coaching", icon=":material/person_search:",
                        url_path="coaching"),
    "me": st.Page("app_pages/me.py", title="My levers", icon=":material/person:", url_path="me"),
    "rollouts": st.Page("app_pages/rollouts.py", title="Strategy rollouts", icon=":material/flag:",
                        url_path="rollouts"),
    "explore": st.Page("app_pages/explore.py", title="Explore", icon=":material/query_stats:",
                       url_path="explore"),
    "data": st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:",
                    url_path="data"),
    "users": st.Page("app_pages/users.py", title="Users", icon=":material/manage_accounts:",
                     url_path="users"),
}
ROLE_PAGES = {
    "executive": ("outputs", "segments", "team", "coaching", "rollouts", "explore", "data"),
    "admin": ("outputs", "segments", "team", "coaching", "rollouts", "explore", "data", "users"),
    "manager": ("team", "coaching", "rollouts", "explore"),
    "rep": ("me", "rollouts", "explore"),
}

if not session.database_ready():
    st.title("leverboard")
    st.error(f"No database at `{session.db_path()}`. Build the demo with `make run` or "
             "`python -m kpi demo --db data/demo.duckdb`; import your own CRM export with "
             "`python -m kpi import FILES --db data/mine.duckdb --preset salesforce` and set "
             "KPI_DB to it; or point KPI_DATABASE_URL at your database.")
    st.stop()

try:
    user = session.signed_in(session.engine())
except KpiError as exc:
    st.error(str(exc))
    st.stop()
if user is None:
    session.remember_destination()
    signin.show()
    st.stop()
st.session_state["user"] = user
st.sidebar.caption(f"Signed in as **{user.name}** ({user.role})")
if st.sidebar.button("Sign out", key="sign_out"):
    session.sign_out()
    if session.sso_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()
    st.rerun()
allowed = ROLE_PAGES.get(user.role, ("rollouts",))
navigation = st.navigation([PAGES[p] for p in allowed])
destination = session.take_destination()
if destination in allowed and destination != navigation.url_path:
    st.switch_page(PAGES[destination], query_params=dict(st.query_params))
navigation.run()
