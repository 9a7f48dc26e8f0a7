"""One seam for databases: each backend implements every method of the Store protocol with the
same parameters, and every dialect row names a dialect sqlglot can write."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest
import sqlglot

from kpi import cli
from kpi.errors import DatabaseError
from kpi.store import DIALECTS, Dialect, DuckDBStore, SqlStore, Store

PROTOCOL = [name for name, value in vars(Store).items()
            if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))]


def test_the_protocol_lists_what_the_code_asks_of_a_database() -> None:
    assert sorted(PROTOCOL) == ["__enter__", "__exit__", "close", "create_schema", "execute",
                                "headroom", "insert_frame", "query", "replace_rows", "rows",
                                "scalar", "tables", "transaction"]


@pytest.mark.parametrize("backend", [DuckDBStore, SqlStore])
def test_each_backend_implements_it(backend: type) -> None:
    for name in PROTOCOL:
        expected = list(inspect.signature(getattr(Store, name)).parameters)
        assert list(inspect.signature(getattr(backend, name)).parameters) == expected, name


def test_a_duckdb_store_is_one() -> None:
    store: Store = DuckDBStore.create()
    assert store.dialect.name == "duckdb" and store.dialect.bulk == "frame"
    assert "opportunities" in store.tables()


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_dialect_is_one_sqlglot_writes(name: str) -> None:
    dialect = DIALECTS[name]
    assert sqlglot.Dialect.get_or_raise(dialect.name) is not None
    assert dialect.bulk in ("frame", "copy", "insert")
    assert sqlglot.transpile("SELECT 1 AS one", read="duckdb", write=dialect.name)



def dropped_connection(store: SqlStore, error: BaseException,
                       monkeypatch: pytest.MonkeyPatch) -> str:
    """What a query says when the driver raises ``error`` under SQLAlchemy."""
    import sqlalchemy.engine

    from kpi.errors import DatabaseError

    def drop(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(sqlalchemy.engine.Connection, "execute", drop)
    with pytest.raises(DatabaseError) as caught:
        store.rows("SELECT 1 AS one")
    assert caught.value.hint == ("check that the database server is running and reachable, "
                                 "then try again")
    return str(caught.value.message)


def test_a_socket_reset_is_a_database_error_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket closed under a driver (an OSError) reaches the caller as a DatabaseError naming
    the database and saying what to do (the Hive/Spark driver's own error: tests/db)."""
    said = dropped_connection(SqlStore.open_url("sqlite://"),
                              ConnectionResetError(104, "Connection reset by peer"), monkeypatch)
    assert said == "lost the connection to sqlite://: [Errno 104] Connection reset by peer"


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A SQLite file holding a table, whose dialect is declared a warehouse leverboard only
    reads (as Spark's and Databricks' are)."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as con:
        con.execute(sqlalchemy.text("CREATE TABLE reps (rep_id TEXT, name TEXT)"))
        con.execute(sqlalchemy.text("INSERT INTO reps VALUES ('r1', 'Ada')"))
    engine.dispose()
    monkeypatch.setitem(DIALECTS, "sqlite", Dialect("sqlite", writes=False))
    return url


def test_spark_and_databricks_are_read_only_warehouses() -> None:
    assert [name for name, dialect in DIALECTS.items() if not dialect.writes] == [
        "hive", "spark", "databricks"]


def test_a_warehouse_is_read_and_never_written(warehouse: str) -> None:
    store = SqlStore.open_url(warehouse)
    assert store.rows("SELECT rep_id, name FROM reps") == (["rep_id", "name"], [("r1", "Ada")])
    with pytest.raises(DatabaseError) as caught, store.transaction():
        store.execute("DELETE FROM reps")
    assert str(caught.value.message).startswith(
        f"{warehouse} is a sqlite warehouse: leverboard reads it and writes nothing there")
    assert "kpi/schema.py" in str(caught.value.hint)
    writer = SqlStore.open_url(warehouse, read_only=False)  # the app's keeper of insights
    with pytest.raises(DatabaseError, match="writes nothing there"):
        writer.insert_frame("reps", pd.DataFrame({"rep_id": ["r2"], "name": ["Grace"]}))
    assert store.rows("SELECT count(*) AS n FROM reps")[1] == [(1,)]


def test_an_import_into_a_warehouse_is_refused_before_reading_the_files(
        warehouse: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "reps.csv").write_text("rep_id,name\nr2,Grace\n")
    assert cli.main(["import", "--db", warehouse, "--preset", "canonical",
                     str(tmp_path / "reps.csv")]) == 2
    said = capsys.readouterr().err
    assert "is a sqlite warehouse: leverboard reads it and writes nothing there" in said
    assert "reading 1 file" not in said
    _, rows = SqlStore.open_url(warehouse).rows("SELECT rep_id FROM reps")
    assert rows == [("r1",)]


def _limit_mib(store: DuckDBStore) -> float:
    text = str(store.scalar("SELECT current_setting('memory_limit')"))
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024 ** 2}[unit]


def test_duckdb_gives_a_block_a_bounded_headroom_then_its_limit_back(tmp_path: Path) -> None:
    """Within headroom(64): DuckDB may hold what it held plus 64 MiB (here: a table of a million
    rows in memory, so the limit is above 64 MiB); after the block: its default again."""
    store = DuckDBStore.create(tmp_path / "h.duckdb")
    before = _limit_mib(store)
    with store.transaction():
        store.execute("CREATE TABLE big AS SELECT range AS i FROM range(1000000)")
        held = store.scalar("SELECT sum(memory_usage_bytes) FROM duckdb_memory()") / 2**20
        with store.headroom(64):
            assert _limit_mib(store) == pytest.approx(int(held) + 64, abs=0.1)
            assert _limit_mib(store) > 64
        assert _limit_mib(store) == before
    assert before > 1024  # DuckDB's default: most of the machine's memory


def test_a_database_in_memory_has_no_headroom_to_spill_to() -> None:
    store = DuckDBStore.create()
    before = _limit_mib(store)
    with store.headroom(1):
        assert _limit_mib(store) == before


def test_a_frame_written_inside_a_transaction_is_not_held_until_it_ends() -> None:
    """An import writes its frames, then sums the rollups in the same transaction: a frame
    held by the database until the commit (as a registered view is) would stay in memory."""
    import gc
    import weakref

    import pandas as pd

    from kpi.store import DuckDBStore

    with DuckDBStore.create() as store, store.transaction():
        teams = pd.DataFrame({"team_id": ["T1", "T2"], "name": ["One", "Two"]})
        extra = pd.DataFrame({"team_id": ["T3"], "name": ["Three"]})
        held = [weakref.ref(teams), weakref.ref(extra)]
        assert store.replace_rows("teams", teams) == 2
        assert store.insert_frame("teams", extra) == 1
        del teams, extra
        gc.collect()
        assert [ref() is None for ref in held] == [True, True]
        assert store.scalar("SELECT count(*) FROM teams") == 3
