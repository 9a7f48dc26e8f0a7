"""The demo company copied into a throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi import rollups
from kpi.schema import TABLES
from kpi.store import DuckDBStore, SqlStore


@pytest.fixture(scope="session")
def pg_demo(pg_url: str, demo_db: Path) -> Iterator[SqlStore]:
    """PostgreSQL holding exactly the demo database's rows (loaded with COPY), except the
    insights kept in DuckDB: PostgreSQL computes (and keeps) its own; and its rollups summed
    there, as an import into PostgreSQL sums them (the Spark warehouse below has none: its
    requests read the raw rows)."""
    target = SqlStore.open_url(pg_url, read_only=False)
    target.create_schema()
    with DuckDBStore.open(demo_db) as source, target.transaction():
        for table in TABLES:
            if table != "stored_insights":
                target.insert_frame(table, source.query(f"SELECT * FROM {table}"))
        rollups.refresh(target)
    yield target
    target.close()


@pytest.fixture(scope="session")
def spark_demo(spark_url: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[SqlStore]:
    """Spark holding exactly the demo database's rows, as a warehouse is filled: each table
    written as Parquet (here by DuckDB) and created from it, read through the store."""
    from tests.db.spark import load_parquet

    load_parquet(spark_url, demo_db, tmp_path_factory.mktemp("parquet"))
    store = SqlStore.open_url(spark_url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def spark_beside(spark_demo: SqlStore, spark_url: str, demo_db: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's DuckDB file beside the Spark warehouse: the demo's own tables, the rollups
    summed in Spark, the copies of its small tables and the Insights computed there, as
    `python -m kpi refresh --db URL --app-db FILE` makes them."""
    from kpi.engine import Engine
    from kpi.views import refresh_insights
    from tests.split_setup import app_file, summed_beside

    app = app_file(demo_db, tmp_path_factory.mktemp("beside-spark") / "app.duckdb")
    split = summed_beside(SqlStore.open_url(spark_url), app)
    try:
        took = refresh_insights(Engine(split), split)
        assert all(isinstance(seconds, float) for seconds in took.values()), took
    finally:
        split.close()
    return app
