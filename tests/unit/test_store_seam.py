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
