"""Cached calls into kpi.views, keyed on the database, its data version, the function, and its
arguments.

The viewer's scope is always one of the arguments, so a cached result can never be served to a
user with a different scope. The data version (read at most every few seconds) is part of the
key, so an import made by any process shows on every page within seconds. The statistics of the
Insights page (``views.STORED``) are answered from the database's kept insights
(kpi.insights.stored): computed once per data version, shared by every process.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from kpi import views
from kpi.insights import stored
from ui import session

VERSION_SECONDS = 5  # how often a process looks for a new data version


@st.cache_data(show_spinner=False, max_entries=2000, ttl=3600)
def _call(db: str, version: int, kept: int | None, name: str, args: tuple, kwargs: tuple) -> Any:
    fn = getattr(views, name)
    if fn in views.STORED:
        assert not kwargs, "the stored views are called with positional arguments"
        return stored.answer(session.engine(), fn, *args, keeper=session.writer())
    return fn(session.engine(), *args, **dict(kwargs))


@st.cache_data(show_spinner=False, ttl=VERSION_SECONDS)
def _version(db: str) -> int:
    return stored.version(session.engine().store)


def view(name: str, *args: Any, **kwargs: Any) -> Any:
    """``kpi.views.<name>(engine, *args, **kwargs)``, cached."""
    db = session.db_path()
    found: int | None = None
    if getattr(views, name) in views.STORED:
        info = kept(name, *args)
        if info is not None and not info.fresh:
            # the last answer, while a background thread computes the new one: never cached
            # here, so the new answer shows as soon as it is kept
            return stored.answer(session.engine(), getattr(views, name), *args,
                                 keeper=session.writer())
        found = None if info is None else info.version  # a newly kept answer: a new cache entry
    return _call(db, _version(db), found, name, args, tuple(sorted(kwargs.items())))


def kept(name: str, *args: Any) -> stored.Kept | None:
    """When the kept answer to ``views.<name>(engine, *args)`` was computed (None: not kept)."""
    return stored.status(session.engine(), getattr(views, name), *args)
