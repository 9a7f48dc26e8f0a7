"""One seam for databases: each backend implements every method of the Store protocol with the
same parameters, and every dialect row names a dialect sqlglot can write."""

from __future__ import annotations

import inspect

import pytest
import sqlglot

from kpi.store import DIALECTS, DuckDBStore, SqlStore, Store

PROTOCOL = [name for name, value in vars(Store).items()
            if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))]


def test_the_protocol_lists_what_the_code_asks_of_a_database() -> None:
    assert sorted(PROTOCOL) == ["__enter__", "__exit__", "close", "create_schema", "execute",
                                "insert_frame", "query", "replace_rows", "rows", "scalar",
                                "tables", "transaction"]


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
