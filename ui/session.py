"""Which database, which engine, who is looking. Shared by app.py and every page.

The database is, in order: ``KPI_DATABASE_URL`` (any SQLAlchemy URL), the ``url`` of
``[connections.sql]`` in ``.streamlit/secrets.toml`` (Streamlit's ``st.connection("sql")``
convention), or the DuckDB file ``KPI_DB`` (default ``data/demo.duckdb``).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from kpi.engine import Engine
from kpi.people import User, get_user, list_users
from kpi.store import SqlStore, Store

DEFAULT_DB = "data/demo.duckdb"
USER_KEY = "pref:user"


def db_url() -> str | None:
    """The SQLAlchemy URL the app runs on, if it does not use a DuckDB file."""
    url = os.environ.get("KPI_DATABASE_URL")
    if url:
        return url
    try:
        return st.secrets["connections"]["sql"]["url"]
    except (KeyError, FileNotFoundError, AttributeError):
        return None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not take the app down
        return None


def db_path() -> str:
    """A key naming the database (the URL with its password masked, or the DuckDB path)."""
    url = db_url()
    return Store.describe(url) if url else os.environ.get("KPI_DB", DEFAULT_DB)


@st.cache_resource(show_spinner=False)
def _engine(key: str) -> Engine:
    url = db_url()
    return Engine(SqlStore.open_url(url) if url else Store.shared(key))


@st.cache_resource(show_spinner=False)
def _sql_writer(key: str) -> Store:
    return SqlStore.open_url(db_url() or "", read_only=False)


def engine() -> Engine:
    """The app's engine: one shared, thread-safe, read-guarded connection per database."""
    return _engine(db_path())


def writer() -> Store:
    """A store that may write (initiative edits); each use gets its own connection or cursor."""
    if db_url():
        return _sql_writer(db_path())
    return Store.shared(db_path(), read_only=False)


def database_ready() -> bool:
    return bool(db_url()) or Path(db_path()).is_file()


def user() -> User:
    """The user the pages are drawn for (set by app.py before the page runs)."""
    return st.session_state["user"]


def pick_user(eng: Engine) -> User:
    """Demo 'view as' picker: every user of the database, grouped by role."""
    users = {u.user_id: u for u in list_users(eng.store)}
    if not users:
        st.sidebar.info("This database has no users yet: you act as its administrator. Import "
                        "your CRM export on the Data page.")
        return User("admin", "Administrator", "admin")
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
