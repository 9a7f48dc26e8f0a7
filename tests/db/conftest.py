"""The demo company copied into a throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi.schema import TABLES
from kpi.store import DuckDBStore, SqlStore


@pytest.fixture(scope="session")
def pg_demo(pg_url: str, demo_db: Path) -> Iterator[SqlStore]:
    """PostgreSQL holding exactly the demo database's rows (loaded with COPY), except the
    insights kept in DuckDB: PostgreSQL computes (and keeps) its own."""
    target = SqlStore.open_url(pg_url, read_only=False)
    target.create_schema()
    with DuckDBStore.open(demo_db) as source, target.transaction():
        for table in TABLES:
            if table != "stored_insights":
                target.insert_frame(table, source.query(f"SELECT * FROM {table}"))
    yield target
    target.close()
