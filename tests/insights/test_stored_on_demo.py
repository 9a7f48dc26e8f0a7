"""The demo's kept insights are the statistics themselves: every question the executive's
Insights page asks, read back from the database, equals the same view computed afresh; the
command line's refresh records a change and computes them on the data as it is."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi import views
from kpi.cli import main
from kpi.engine import Engine
from kpi.insights import stored
from kpi.store import DuckDBStore


def same(kept: object, fresh: object, where: str = "answer", rtol: float = 0.0) -> None:
    """Equal value by value: frames and series cell by cell with their dtypes, dataclasses field
    by field, floats exactly (or within ``rtol``; NaN equal to NaN)."""
    assert type(kept) is type(fresh), where
    exact = {"check_exact": True} if not rtol else {"check_exact": False, "rtol": rtol}
    if isinstance(kept, pd.DataFrame):
        pd.testing.assert_frame_equal(kept, fresh, obj=where, **exact)
    elif isinstance(kept, pd.Series):
        pd.testing.assert_series_equal(kept, fresh, obj=where, **exact)
    elif dataclasses.is_dataclass(kept):
        for field in dataclasses.fields(kept):
            same(getattr(kept, field.name), getattr(fresh, field.name), f"{where}.{field.name}",
                 rtol)
    elif isinstance(kept, (list, tuple)):
        assert len(kept) == len(fresh), where
        for i, (a, b) in enumerate(zip(kept, fresh, strict=True)):
            same(a, b, f"{where}[{i}]", rtol)
    elif isinstance(kept, float) and np.isnan(kept):
        assert np.isnan(fresh), where
    elif isinstance(kept, float) and rtol:
        assert kept == pytest.approx(fresh, rel=rtol), where
    else:
        assert kept == fresh, where


def test_every_kept_insight_of_the_demo_equals_the_view_computed_afresh(demo_engine: Engine
                                                                        ) -> None:
    questions = views.insight_questions(demo_engine)
    assert sorted({fn.__name__ for fn, _ in questions}) == sorted(
        [f.__name__ for f in views.STORED] + ["past_quarters"])
    for fn, args in questions:
        kept = stored.status(demo_engine, fn, *args)
        assert kept is not None and kept.fresh, fn.__name__
        same(stored.answer(demo_engine, fn, *args), fn(demo_engine, *args), fn.__name__)


def kept_now(store: DuckDBStore) -> int:
    """The answers kept on the current data version (answers kept earlier, for questions the
    refresh does not ask, stay as the last good ones until someone asks again)."""
    return int(store.scalar("SELECT count(*) FROM stored_insights WHERE version = "
                            "(SELECT max(version) FROM data_versions)"))


def test_refresh_records_a_change_and_computes_the_insights_again(demo_db: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture
                                                                  ) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    with DuckDBStore.open(db) as store:
        before = stored.version(store)
        fn, args = views.insight_questions(Engine(store))[0]
        first = stored.status(Engine(store), fn, *args)
    assert main(["refresh", "--db", str(db)]) == 0
    assert "insights computed in" in capsys.readouterr().err
    with DuckDBStore.open(db) as store:
        assert stored.version(store) > before
        again = stored.status(Engine(store), fn, *args)
        assert again is not None and again.fresh and first is not None
        assert again.version > first.version
        assert kept_now(store) == len(views.insight_questions(Engine(store)))


def test_refresh_with_teams_keeps_what_each_managers_page_asks(demo_db: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture
                                                               ) -> None:
    from kpi.people import get_user

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    assert main(["refresh", "--db", str(db), "--teams"]) == 0
    with DuckDBStore.open(db) as store:
        engine = Engine(store)
        day = views.as_of(engine)
        manager = get_user(store, "mgr-t1")
        for fn, args in ((views.quarter_forecast, (manager.scope, day)),
                         (views.pipeline_coverage_needed, (manager.scope, day)),
                         (views.rep_win_rates, (manager.scope, views.last_year(day)))):
            kept = stored.status(engine, fn, *args)
            assert kept is not None and kept.fresh, fn.__name__
            same(stored.answer(engine, fn, *args), fn(engine, *args), fn.__name__)
        teams = store.scalar("SELECT count(*) FROM teams")
        assert kept_now(store) == len(views.insight_questions(engine)) + 3 * teams


def test_a_fresh_process_reads_every_kept_insight_without_computing_it(demo_db: Path) -> None:
    """A new app process (nothing of pandas or kpi.insights imported yet) reads what the last
    import kept: no class is refused for not being loaded, so no question is computed again."""
    import subprocess
    import sys

    script = (
        "import sys, logging\n"
        "from kpi.store import DuckDBStore\n"
        "from kpi.insights import stored\n"
        "assert 'pandas' not in sys.modules and 'kpi.insights.rollout' not in sys.modules\n"
        "store = DuckDBStore.open(sys.argv[1])\n"
        "keys = [k for (k,) in store.rows('SELECT insight_key FROM stored_insights')[1]]\n"
        "unread = [k for k in keys if stored._read(store, k) is None]\n"
        "print(len(keys), unread)\n")
    done = subprocess.run([sys.executable, "-c", script, str(demo_db)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr
    count, unread = done.stdout.split(" ", 1)
    assert int(count) >= 9 and unread.strip() == "[]", done.stdout + done.stderr
