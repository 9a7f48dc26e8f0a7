"""Which database, which engine, who is looking. Shared by app.py and every page."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from kpi.engine import Engine
from kpi.people import User, get_user, list_users
from kpi.store import Store

DEFAULT_DB = "data/demo.duckdb"
USER_KEY = "pref:user"


def db_path() -> str:
    return os.environ.get("KPI_DB", DEFAULT_DB)


@st.cache_resource(show_spinner=False)
def _engine(path: str) -> Engine:
    return Engine(Store.shared(path))


def engine() -> Engine:
    """The app's engine: one shared, read-guarded connection per database file."""
    return _engine(db_path())


def writer() -> Store:
    """A store that may write (initiative edits); each use gets its own cursor."""
    return Store.shared(db_path(), read_only=False)


def database_ready() -> bool:
    return Path(db_path()).is_file()


def user() -> User:
    """The user the pages are drawn for (set by app.py before the page runs)."""
    return st.session_state["user"]


def pick_user(eng: Engine) -> User:
    """Demo 'view as' picker: every user of the database, grouped by role."""
    users = {u.user_id: u for u in list_users(eng.store)}
    if not users:
        st.sidebar.error("This database has no users yet: add one with `python -m kpi user add`.")
        st.stop()
    ids = list(users)
    chosen = st.session_state.get(USER_KEY)
    if chosen not in users:
        chosen = "exec" if "exec" in users else ids[0]
    if st.session_state.get("w:user") not in users:
        st.session_state["w:user"] = chosen
    picked = st.sidebar.selectbox(
        "View as", ids, key="w:user", format_func=lambda i: _describe(users[i]),
        help="Demo mode: see the dashboard as any user of the demo company. Each role sees "
             "only the rows it may see.")
    st.session_state[USER_KEY] = picked
    return get_user(eng.store, picked)


def _describe(u: User) -> str:
    where = f", {u.team_id}" if u.team_id else ""
    return f"{u.name} — {u.role}{where}"
