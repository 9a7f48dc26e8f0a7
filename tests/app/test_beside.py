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


@pytest.fixture
def beside_a_warehouse(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app on a DuckDB file standing in for a warehouse (Spark itself: tests/db), beside
    its app database."""
    from kpi.split import open_split
    from kpi.store import DuckDBStore
    from tests.split_setup import app_file, summed_beside, warehouse_file

    warehouse = warehouse_file(demo_db, tmp_path / "warehouse.duckdb")
    app = app_file(demo_db, tmp_path / "app.duckdb")
    summed_beside(DuckDBStore.open(warehouse), app).close()
    monkeypatch.setenv("KPI_DATABASE_URL", f"hive://warehouse.example:10000/{tmp_path.name}")
    monkeypatch.setenv("KPI_APP_DB", str(app))
    monkeypatch.setattr(session, "_sql", lambda read_only: open_split(  # threads share it
        DuckDBStore.shared(warehouse), str(app), read_only, shared=True))
    return warehouse


def test_the_data_page_beside_a_warehouse_offers_no_import(beside_a_warehouse: Path) -> None:
    from kpi.store import DuckDBStore
    from tests.app.conftest import _opener

    with DuckDBStore.open(beside_a_warehouse) as w:
        counts = [w.scalar(f"SELECT count(*) FROM {t}") for t in ("opportunities", "activities")]

    at = _opener("admin", "data")
    assert not at.exception and not at.error
    assert "leverboard only reads" in " ".join(i.value for i in at.info)
    assert "python -m kpi refresh" in " ".join(i.value for i in at.info)
    assert not at.get("file_uploader")
    assert [m.value for m in at.metric][:2] == [f"{n:,}" for n in counts]  # the warehouse's
    captions = " ".join(c.value for c in at.caption)
    assert "Import CRM exports" not in captions and "Last import" not in captions
    assert "read from a warehouse" in captions and "Last refresh: none yet" in captions


def test_pages_answer_while_another_program_holds_the_app_database(
        beside_a_warehouse: Path) -> None:
    """A second server, a notebook or the command line may have the app's file open: the pages
    read on (the insights a server computes on its start wait for the file, in the background)."""
    import os
    import subprocess
    import sys

    from tests.app.conftest import _opener

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
         "read_only=True); print('open', flush=True); time.sleep(60)", os.environ["KPI_APP_DB"]],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        at = _opener("exec", "outputs")
        assert not at.exception and not at.error
        assert at.metric, "no numbers on the executive's Outputs"
    finally:
        holder.kill()
        holder.wait()
