"""The app pointed at a warehouse whose app database (KPI_APP_DB) is not made yet says how to
make it, before connecting anywhere (the pages beside a real Spark: tests/db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from ui import session, signin


def test_a_missing_app_database_beside_a_warehouse_says_how_to_make_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "beside.duckdb"
    monkeypatch.setenv("KPI_DATABASE_URL", "hive://127.0.0.1:9/default")  # nothing listens
    monkeypatch.setenv("KPI_APP_DB", str(missing))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    said = session.setup_hint()  # to a visitor on this machine; logged for the others
    assert f"No app database at `{missing}`" in said
    assert f"python -m kpi refresh --db URL --app-db {missing}" in said
    assert [e.value for e in at.error] in ([said], [signin.UNAVAILABLE])
    assert said in caplog.text
    assert not missing.exists()
