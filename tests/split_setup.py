"""A company split as a warehouse holds it: the warehouse's tables in one database, the app's
own tables in a DuckDB file beside it (kpi/split.py), both taken from the demo."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest

from kpi import rollups, schema
from kpi.split import MIRRORED, SplitStore, open_split
from kpi.store import Store


def warehouse_file(demo_db: Path, path: Path) -> Path:
    """A DuckDB file holding only what a warehouse holds: the canonical tables and the stages."""
    _copy(demo_db, path, (*schema.IMPORTED, "stages"))
    return path


def app_file(demo_db: Path, path: Path) -> Path:
    """The demo's own tables (users, initiatives, targets, ...), its kept insights aside."""
    _copy(demo_db, path, tuple(t for t in schema.APP_TABLES
                               if t not in MIRRORED and t != "stored_insights"))
    return path


def summed_beside(warehouse: Store, app: Path) -> SplitStore:
    """The split store on ``warehouse`` and ``app``, its rollups and copies made."""
    split = open_split(warehouse, str(app), read_only=False)
    with split.transaction():
        rollups.refresh(split)
    return split


def _copy(source: Path, target: Path, tables: tuple[str, ...]) -> None:
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{source}' AS demo (READ_ONLY)")
        for table in tables:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM demo.{table}")
    finally:
        con.close()


class Where:
    """How many statements each side of a split store ran."""

    def __init__(self, split: SplitStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran: Counter[str] = Counter()
        self.sql: list[str] = []
        for side, store in (("warehouse", split.warehouse), ("app", split.app)):
            for method in ("rows", "query", "scalar"):
                monkeypatch.setattr(store, method, self._counting(side, getattr(store, method)))

    def _counting(self, side: str, run):  # type: ignore[no-untyped-def]
        def counted(sql, params=None):  # type: ignore[no-untyped-def]
            self.ran[side] += 1
            if side == "warehouse":
                self.sql.append(" ".join(sql.split())[:200])
            return run(sql, params)
        return counted
