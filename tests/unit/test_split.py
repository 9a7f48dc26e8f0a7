"""A warehouse beside the app's DuckDB file (kpi/split.py), with a DuckDB file standing in for the
warehouse: the same numbers as the demo, a page's queries in the file, writes never in the
warehouse."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import bench
from kpi import rollups
from kpi.engine import Engine
from kpi.errors import DatabaseError
from kpi.insights import stored
from kpi.split import SplitStore, tables_read
from kpi.store import DuckDBStore, connect
from tests.db.test_parity import CATALOG, requests
from tests.split_setup import Where, app_file, summed_beside, warehouse_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def split(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SplitStore]:
    folder = tmp_path_factory.mktemp("split")
    warehouse = warehouse_file(demo_db, folder / "warehouse.duckdb")
    app = app_file(demo_db, folder / "app.duckdb")
    summed_beside(DuckDBStore.open(warehouse), app).close()
    store = connect(warehouse, app=app)
    assert isinstance(store, SplitStore)
    yield store
    store.close()


def test_the_tables_a_statement_reads_leave_out_its_with_names_and_functions() -> None:
    sql = """WITH spine AS (SELECT CAST(g.p AS DATE) AS period FROM
               generate_series(CAST($a AS TIMESTAMP), CAST($b AS TIMESTAMP), INTERVAL 1 DAY) AS g(p))
             SELECT * FROM spine s LEFT JOIN rollup_activities r ON r.event_date = s.period
             JOIN Reps p ON p.rep_id = r.rep_id
             WHERE EXISTS (SELECT 1 FROM activities a WHERE a.rep_id = p.rep_id)"""
    assert tables_read(sql) == {"rollup_activities", "reps", "activities"}


def test_every_catalog_request_is_the_demos(split: SplitStore, demo_engine: Engine) -> None:
    engine = Engine(split)
    asked = [r for m in CATALOG for r in requests(m.id)]
    for request in asked:
        pd.testing.assert_frame_equal(engine.run(request), demo_engine.run(request),
                                      check_dtype=False, obj=str(request))
    for mine, theirs in zip(engine.run_many(asked), demo_engine.run_many(asked), strict=True):
        pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)


@pytest.mark.parametrize(("page", "most"), [("executive", 3), ("manager", 2), ("rep", 2)])
def test_a_page_reads_the_file_and_asks_the_warehouse_little(
        split: SplitStore, monkeypatch: pytest.MonkeyPatch, page: str, most: int) -> None:
    """Each role's page workload of `make bench` on a new engine: its rollups and people from
    the file; the warehouse for the data's date range, its row counts (are the rollups still
    current?) and what only its rows answer (the executive's share of open pipeline by
    industry)."""
    where = Where(split, monkeypatch)
    getattr(bench, f"page_{page}")(Engine(split))
    assert where.ran["app"] >= 10
    assert where.ran["warehouse"] <= most, where.sql


def test_rows_appended_in_the_warehouse_are_read_there_until_summed_again(
        demo_db: Path, tmp_path: Path, demo_engine: Engine) -> None:
    warehouse = warehouse_file(demo_db, tmp_path / "warehouse.duckdb")
    app = app_file(demo_db, tmp_path / "app.duckdb")
    summed_beside(DuckDBStore.open(warehouse), app).close()
    with DuckDBStore.open(warehouse, read_only=False) as w, w.transaction():
        w.execute("INSERT INTO activities SELECT activity_id || '-again', rep_id, account_id, "
                  "opp_id, occurred_at, type, new_prospect FROM activities "
                  "WHERE occurred_at >= DATE '2026-09-01'")
    request = requests("activities")[0]
    with connect(warehouse, app=app) as store:
        assert "rollup_activities" not in rollups.index(store)  # stale: not read
        stale = Engine(store).run(request)
    with connect(warehouse, read_only=False, app=app) as store, store.transaction():
        rollups.refresh(store)
    with connect(warehouse, app=app) as store:
        assert "rollup_activities" in rollups.index(store)
        summed = Engine(store).run(request)
    pd.testing.assert_frame_equal(stale, summed, check_dtype=False)
    before = demo_engine.run(request)
    september = before["period"].astype(str).str.startswith("2026-09")
    assert (summed.loc[september, "value"].to_numpy()
            == 2 * before.loc[september, "value"].to_numpy()).all()
    assert summed.loc[~september, "value"].tolist() == before.loc[~september, "value"].tolist()


def test_writes_land_in_the_file_and_the_warehouse_is_refused(
        demo_db: Path, tmp_path: Path) -> None:
    warehouse = warehouse_file(demo_db, tmp_path / "warehouse.duckdb")
    app = app_file(demo_db, tmp_path / "app.duckdb")
    with DuckDBStore.open(warehouse) as w:
        counts = rollups.raw_rows(w, w.tables())
    with connect(warehouse, read_only=False, app=app) as store:
        frame = store.query("SELECT * FROM activities LIMIT 3")
        was = stored.version(store)
        with pytest.raises(DatabaseError, match="kept in the warehouse.*nothing was written"), \
                store.transaction():
            stored.bump(store, "an import")
            store.insert_frame("activities", frame)
        assert stored.version(store) == was  # undone with the refused write
        with store.transaction():
            now = stored.bump(store, "a refresh")
    with DuckDBStore.open(app) as a:
        assert stored.version(a) == now > was
        assert "activities" not in a.tables()
    with DuckDBStore.open(warehouse) as w:
        assert rollups.raw_rows(w, w.tables()) == counts
        assert "reviews" not in w.tables()


def test_the_cli_sums_beside_a_warehouse_and_answers_from_there(
        demo_db: Path, tmp_path: Path) -> None:
    warehouse = warehouse_file(demo_db, tmp_path / "warehouse.duckdb")
    app = tmp_path / "new" / "app.duckdb"  # created by the refresh

    def kpi(*args: str, typed: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpi", *args, "--db", str(warehouse),
                               "--app-db", str(app)], capture_output=True, text=True, cwd=ROOT,
                              check=False, input=typed)

    done = kpi("refresh")
    assert done.returncode == 0, done.stderr
    with DuckDBStore.open(app) as a:
        assert {"rollup_activities", "reps", "users", "stored_insights"} <= a.tables()
        assert not {"activities", "opportunities", "stage_history"} & a.tables()
    added = kpi("user", "add", "boss", "--role", "executive", "--password-stdin",
                typed="a long enough passphrase 42\n")
    assert added.returncode == 0, added.stderr
    assert "boss" in kpi("user", "list").stdout
    with DuckDBStore.open(warehouse) as w:
        assert "users" not in w.tables()
    answer = kpi("query", "revenue", "--grain", "total", "--format", "json")
    assert answer.returncode == 0, answer.stderr
    with DuckDBStore.open(warehouse) as w:
        total = w.scalar("SELECT sum(amount) FROM opportunities WHERE is_won")
    assert '"value": ' + str(round(total, 2))[:6] in answer.stdout
