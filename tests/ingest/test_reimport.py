"""Importing the same export again: nothing is rewritten, the file does not grow, changes land."""

from __future__ import annotations

from pathlib import Path

from kpi.ingest import Source
from kpi.store import DuckDBStore
from tests.ingest.conftest import FIXTURES, run_import, sources

HEADER = "opp_id,rep_id,account_id,created_at,closed_at,stage,is_closed,is_won,amount,cost,product"


def deals(n: int, changed: int | None = None) -> Source:
    rows = [f"o{i},r{1 + i % 2},a{1 + i % 2},2024-02-{1 + i % 28:02d},2024-03-{1 + i % 28:02d},"
            f"Closed Won,true,true,{1000 + i + (5 if i == changed else 0)},,Core" for i in range(n)]
    return Source("opportunities.csv", "\n".join([HEADER, *rows]).encode())


def size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_the_same_file_again_leaves_the_database_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "again.duckdb"
    with DuckDBStore.create(path) as store:
        run_import(store, "canonical", sources(FIXTURES / "canonical"))
        run_import(store, "canonical", [deals(60_000)])
    first = size(path)
    sizes = []
    for _ in range(3):
        with DuckDBStore.open(path, read_only=False) as store:
            run_import(store, "canonical", [deals(60_000)])
        sizes.append(size(path))
    # the deals are not rewritten (that alone adds their 4+ MB each time); the import's own
    # record and the small tables it refreshes take a few of DuckDB's 256 KiB blocks
    assert max(sizes) <= first + 2 * 2**20, f"{first:,} bytes grew to {sizes}"
    with DuckDBStore.open(path) as store:
        assert store.scalar("SELECT count(*) FROM opportunities") == 60_000  # o1-o4 among them
        assert store.scalar("SELECT count(*) FROM imports") == 5


def test_a_changed_row_replaces_the_stored_one_and_the_others_stay(tmp_path: Path) -> None:
    with DuckDBStore.create(tmp_path / "changed.duckdb") as store:
        run_import(store, "canonical", sources(FIXTURES / "canonical"))
        run_import(store, "canonical", [deals(10)])
        before = store.query("SELECT * FROM opportunities WHERE opp_id <> 'o7' ORDER BY opp_id")
        _, result = run_import(store, "canonical", [deals(10, changed=7)])
        assert result.rows_loaded["opportunities"] == 10
        assert store.query("SELECT amount FROM opportunities WHERE opp_id = 'o7'"
                           )["amount"].tolist() == [1012]
        after = store.query("SELECT * FROM opportunities WHERE opp_id <> 'o7' ORDER BY opp_id")
        assert after.equals(before)
        assert store.scalar("SELECT count(*) FROM opportunities") == 10


def test_a_plan_written_once_lets_go_of_its_rows_and_writes_the_same() -> None:
    """The command line's import (``release``): the same rows, result and stages as a plan kept
    for another try, and the plan's rows are let go of (the memory goes to the sums)."""
    import gc
    import weakref

    from kpi.ingest import load, load_preset, plan_import
    from kpi.schema import APP_TABLES
    from tests.ingest.conftest import MAVEN, snapshot

    results, tables = [], []
    for release in (False, True):
        with DuckDBStore.create() as store:
            plan = plan_import(sources(MAVEN), load_preset("maven"), store)
            rows = [weakref.ref(frame) for frame in plan.tables.values()]
            result = load(store, plan, on_error="skip", release=release)
            gc.collect()
            assert bool(plan.tables) is not release
            assert [ref() is None for ref in rows] == [release] * len(rows)  # freed: none held
            results.append((result.rows_read, result.rows_loaded, result.rows_skipped,
                            result.left_out))
            tables.append({t: f for t, f in snapshot(store).items()
                           if t not in APP_TABLES or t == "stages"})
    assert results[0] == results[1] and results[0][1]["opportunities"] > 8000
    assert tables[0].keys() == tables[1].keys() and "stages" in tables[0]
    assert all(tables[0][t].equals(tables[1][t]) for t in tables[0])
