"""Demo companies built from several seeds, shared by the insight tests of one session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kpi.demo import DemoConfig, build
from kpi.engine import Engine
from kpi.store import DuckDBStore

SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="session")
def seed_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Engine]]:
    """One read-only engine per seed."""
    stores = {}
    for seed in SEEDS:
        path = tmp_path_factory.mktemp(f"seed{seed}") / "demo.duckdb"
        build(path, DemoConfig(seed=seed))
        stores[seed] = DuckDBStore.open(path)
    yield {seed: Engine(store) for seed, store in stores.items()}
    for store in stores.values():
        store.close()
