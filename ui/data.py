"""Cached calls into kpi.views, keyed on the database, the function, and its arguments.

The viewer's scope is always one of the arguments, so a cached result can never be served to a
user with a different scope.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from kpi import views
from ui import session


@st.cache_data(show_spinner=False, max_entries=2000, ttl=3600)
def _call(db: str, name: str, args: tuple, kwargs: tuple) -> Any:
    return getattr(views, name)(session.engine(), *args, **dict(kwargs))


def view(name: str, *args: Any, **kwargs: Any) -> Any:
    """``kpi.views.<name>(engine, *args, **kwargs)``, cached."""
    return _call(session.db_path(), name, args, tuple(sorted(kwargs.items())))
