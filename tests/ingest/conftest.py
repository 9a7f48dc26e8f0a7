"""Import helpers: fixture exports on disk, a database built from them, and snapshots."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kpi.ingest import Plan, Source, load, load_preset, plan_import
from kpi.ingest.load import ImportResult
from kpi.schema import TABLES
from kpi.store import DuckDBStore, Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"  # public exports, as downloaded
MAVEN = REAL / "maven_crm"


def sources(folder: Path) -> list[Source]:
    return [Source.from_path(p) for p in sorted(folder.iterdir()) if p.suffix in (".csv", ".xlsx")]


def run_import(store: Store, preset: str, files: list[Source], on_error: str = "stop"
               ) -> tuple[Plan, ImportResult]:
    plan = plan_import(files, load_preset(preset), store)
    return plan, load(store, plan, on_error=on_error)


def snapshot(store: Store) -> dict[str, pd.DataFrame]:
    """Every row of every table, in a stable order (to prove nothing changed)."""
    present = store.tables()
    return {t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES if t in present}


def same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return a.keys() == b.keys() and all(a[t].equals(b[t]) for t in a)


@pytest.fixture(scope="session")
def _canonical_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The canonical fixture imported once per test process; each test gets its own copy."""
    path = tmp_path_factory.mktemp("canonical") / "canonical.duckdb"
    store = DuckDBStore.create(path)
    run_import(store, "canonical", sources(FIXTURES / "canonical"))
    store.close()
    return path


@pytest.fixture
def canonical_db(tmp_path: Path, _canonical_file: Path) -> Iterator[Store]:
    """A database holding the canonical fixture (2 reps, 2 accounts, 4 deals, 3 activities)."""
    shutil.copy(_canonical_file, tmp_path / "canonical.duckdb")
    store = DuckDBStore.open(tmp_path / "canonical.duckdb", read_only=False)
    yield store
    store.close()
