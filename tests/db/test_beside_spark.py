"""Spark as the warehouse beside the app's DuckDB file (kpi/split.py): the rollups summed in
Spark and kept in the file give the demo's numbers, and each role's pages render from the file
with the demo's numbers, asking Spark little."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench
from kpi.engine import Engine
from kpi.split import SplitStore
from kpi.store import connect
from tests.app.conftest import _opener
from tests.db.test_parity import CATALOG, assert_equal_batch, assert_equal_rows, requests
from tests.unit.test_split import Where


@pytest.fixture
def beside(spark_url: str, spark_beside: Path) -> SplitStore:
    store = connect(spark_url, app=spark_beside)
    assert isinstance(store, SplitStore)
    return store


def test_every_catalog_request_beside_spark_is_duckdbs(beside: SplitStore, demo_engine: Engine
                                                       ) -> None:
    engine = Engine(beside)
    asked = [r for m in CATALOG for r in requests(m.id)]
    for request in asked:
        assert_equal_rows(demo_engine, engine, request)
    assert_equal_batch(demo_engine, engine, asked)


@pytest.mark.parametrize(("page", "most"), [("executive", 3), ("manager", 2), ("rep", 2)])
def test_a_page_beside_spark_asks_spark_little(beside: SplitStore, page: str, most: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    where = Where(beside, monkeypatch)
    getattr(bench, f"page_{page}")(Engine(beside))
    assert where.ran["warehouse"] <= most, where.sql


@pytest.mark.parametrize(("user", "page"), [
    ("exec", "outputs"), ("exec", "segments"), ("exec", "insights"), ("exec", "rollouts"),
    ("exec", "explore"), ("exec", "data"), ("admin", "users"),
    ("mgr-t1", "team"), ("mgr-t1", "coaching"), ("mgr-t1", "insights"), ("mgr-t1", "rollouts"),
    ("rep-r002", "me"), ("rep-r002", "insights"), ("rep-r002", "explore")])
def test_pages_beside_spark(spark_url: str, spark_beside: Path, demo_db: Path,
                            monkeypatch: pytest.MonkeyPatch, user: str, page: str) -> None:
    """Each role's pages, signed in from the users kept in the file, with the demo's numbers."""
    monkeypatch.setenv("KPI_DATABASE_URL", spark_url)
    monkeypatch.setenv("KPI_APP_DB", str(spark_beside))
    at = _opener(user, page)
    assert not at.exception and not at.error, (at.exception, at.error)
    shown = {m.label: m.value for m in at.metric}
    monkeypatch.delenv("KPI_DATABASE_URL")
    monkeypatch.delenv("KPI_APP_DB")
    monkeypatch.setenv("KPI_DB", str(demo_db))
    on_duckdb = _opener(user, page)
    assert shown == {m.label: m.value for m in on_duckdb.metric}
    mine = [t.value for t in (*at.table, *at.dataframe)]
    theirs = [t.value for t in (*on_duckdb.table, *on_duckdb.dataframe)]
    assert (shown or mine or at.get("plotly_chart")), "nothing drawn"
    assert len(mine) == len(theirs)
    assert all(a.equals(b) for a, b in zip(mine, theirs, strict=True))
    assert [c.proto.spec for c in at.get("plotly_chart")] == \
        [c.proto.spec for c in on_duckdb.get("plotly_chart")]
