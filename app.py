"""leverboard — is the sales strategy working? Page config, who is looking, and the router."""

from __future__ import annotations

import logging

import streamlit as st

from kpi.errors import KpiError
from ui import guard, session, signin, widgets
from ui.frame import ROLE_PAGES

st.set_page_config(page_title="leverboard", page_icon="📈", layout="wide")
guard.refuse_cache_clearing()

# (file and url in app_pages/, title, Material icon)
_PAGES = [("outputs", "Outputs", "monitoring"), ("segments", "Segments", "pie_chart"),
          ("team", "Team levers", "groups"), ("coaching", "Coaching", "person_search"),
          ("me", "My levers", "person"), ("rollouts", "Strategy rollouts", "flag"),
          ("explore", "Explore", "query_stats"), ("data", "Data", "upload_file"),
          ("users", "Users", "manage_accounts"), ("insights", "Insights", "insights")]
PAGES = {key: st.Page(f"app_pages/{key}.py", title=title, icon=f":material/{icon}:", url_path=key)
         for key, title, icon in _PAGES}

if not session.database_ready():
    setup = session.setup_hint()
    logging.getLogger("leverboard").error(setup)
    st.title("leverboard")
    st.error(setup if session.is_local() else signin.UNAVAILABLE)
    st.stop()

try:
    user = session.signed_in(session.engine())
except KpiError:
    logging.getLogger("leverboard").exception("who is signed in could not be read")
    st.title("leverboard")
    st.error(signin.UNAVAILABLE)
    st.stop()
if user is None:
    session.remember_destination()
    signin.show()
    st.stop()
st.session_state["user"] = user
st.sidebar.caption(f"Signed in as **{widgets.md(user.name)}** ({user.role})")
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
