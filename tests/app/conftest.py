"""AppTest helpers: open the app as one user on one page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")

Opener = Callable[..., AppTest]


@pytest.fixture
def open_page(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Opener:
    """``open_page(user_id, page, **query)`` runs the app as that user and switches to the page."""
    monkeypatch.setenv("KPI_DB", str(demo_db))
    return _opener


@pytest.fixture
def writable_app(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app on its own copy of the demo database (for tests that write)."""
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("KPI_DB", str(db))
    return db


def _opener(user_id: str, page: str, tables: bool = False, **query: str) -> AppTest:
    """With ``tables`` every "Table and CSV" expander (and the Insights' quarterly reviews) is
    opened, as a user who clicks each of them: a closed one draws nothing."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth:user"] = user_id  # signed in (the sign-in itself: test_access.py)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    if tables:
        open_tables(at)
    return at


def open_tables(at: AppTest) -> AppTest:
    """Open every expander whose content is drawn only while open, and run the page again."""
    closed = [k for k in at.session_state._state.filtered_state
              if k.startswith("table:") or k == "lead_reviews"]
    if not closed:  # a page without charts
        return at
    for key in closed:
        at.session_state[key] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at
