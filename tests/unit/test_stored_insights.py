"""Insights kept in the database: computed once per data version, read afterwards; a stale
answer shown while the new one is computed; nothing stored without a store that may write; a
tampered row never runs code; every import makes the kept answers stale."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path

import pandas as pd
import pytest

from kpi.engine import Engine, Scope
from kpi.errors import InvalidRequest
from kpi.ingest import Source, load, load_preset, plan_import
from kpi.insights import stored
from kpi.store import DuckDBStore

from ..conftest import Tiny


@pytest.fixture
def company() -> Tiny:
    tiny = Tiny()
    tiny.team("T1")
    tiny.rep("r1", "T1")
    tiny.deal("r1", "2024-02-01", "2024-03-01", won=True, amount=100)
    return tiny


class Counted:
    """A stand-in for a view: counts its calls and answers with a frame of its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.__name__ = "counted"

    def __call__(self, engine: Engine, *args: object) -> pd.DataFrame:
        self.calls.append(args)
        return pd.DataFrame({"arg": [repr(a) for a in args], "n": [len(self.calls)] * len(args),
                             "day": [dt.date(2024, 3, 1)] * len(args)})


def test_an_answer_is_computed_once_and_then_read_from_the_database(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    first = stored.answer(engine, fn, Scope.teams("T1"), 3, keeper=company.store,
                          background=False)
    again = stored.answer(Engine(company.store), fn, Scope.teams("T1"), 3,
                          keeper=company.store, background=False)
    assert fn.calls == [(Scope.teams("T1"), 3)]
    pd.testing.assert_frame_equal(again, first)
    assert again["day"].tolist() == [dt.date(2024, 3, 1)] * 2
    kept = stored.status(engine, fn, Scope.teams("T1"), 3)
    assert kept is not None and kept.fresh and kept.version == 0
    assert kept.data_through == dt.date(2024, 3, 1)


def test_each_scope_is_its_own_question(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    scopes = (Scope.teams("T1"), Scope.reps("r1"), Scope.teams("T1").seen_by("manager"),
              Scope.rep_in_teams("r1", "T1"), Scope.rep_in_teams("r1", "T2"))
    for scope in scopes:
        stored.answer(engine, fn, scope, 3, keeper=company.store, background=False)
    stored.answer(engine, fn, Scope.teams("T1"), 4, keeper=company.store, background=False)
    assert len(fn.calls) == 6
    assert company.store.scalar("SELECT count(*) FROM stored_insights") == 6


def test_after_a_change_the_last_answer_shows_while_the_new_one_is_computed(
        company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    first = stored.answer(engine, fn, 1, keeper=company.store, background=False)
    with company.store.transaction():
        new = stored.bump(company.store, "test")
    assert new > 0 and stored.version(company.store) == new
    stale = stored.answer(engine, fn, 1, keeper=company.store)
    pd.testing.assert_frame_equal(stale, first)
    assert stored.wait_idle(30)
    assert len(fn.calls) == 2
    kept = stored.status(engine, fn, 1)
    assert kept is not None and kept.fresh and kept.version == new
    assert stored.answer(engine, fn, 1, keeper=company.store)["n"].tolist() == [2]


def test_without_a_store_that_may_write_nothing_is_kept(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    stored.answer(engine, fn, 1, background=False)
    stored.answer(engine, fn, 1, background=False)
    assert len(fn.calls) == 2
    assert stored.status(engine, fn, 1) is None


def test_a_read_only_database_answers_without_keeping(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    DuckDBStore.create(path).close()
    with DuckDBStore.open(path) as store:
        fn = Counted()
        assert len(stored.answer(Engine(store), fn, 2, keeper=store, background=False)) == 1
        assert stored.status(Engine(store), fn, 2) is None
        assert stored.version(store) == 0


class Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch evil-was-here",))


# an allowed module's file writer (it empties the file it is given), and a module that runs a
# command when imported: payloads a reviewer built from names an allow-list might let through
WRITER = b"cpandas\nExcelWriter\n(Vreport.xlsx\nVopenpyxl\ntR0I42\n."
COMMAND = b"ckpi.__main__\nmain\n."


def test_a_row_not_signed_with_this_key_is_never_unpickled(company: Tiny, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    engine, fn = Engine(company.store), Counted()
    stored.answer(engine, fn, 1, keeper=company.store, background=False)
    for payload in (pickle.dumps(Evil()), b"\0" * 32 + pickle.dumps(Evil()), WRITER):
        with company.store.transaction():
            company.store.execute("UPDATE stored_insights SET payload = $p", {"p": payload})
        got = stored.answer(engine, fn, 1, keeper=company.store, background=False)
        assert got["n"].tolist() == [len(fn.calls)]  # computed again
    assert len(fn.calls) == 4
    assert list(tmp_path.iterdir()) == []


def test_even_a_signed_row_holds_only_what_a_result_is_made_of(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    import io

    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.xlsx").write_bytes(b"precious")
    for payload in (pickle.dumps(Evil()), WRITER, COMMAND):
        with pytest.raises(pickle.UnpicklingError, match="a stored insight may not hold"):
            stored._Restricted(io.BytesIO(payload)).load()
    assert (tmp_path / "report.xlsx").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_another_key_cannot_read_this_keys_rows(company: Tiny,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    engine, fn = Engine(company.store), Counted()
    try:
        monkeypatch.setenv("KPI_INSIGHTS_KEY", "one server's key")
        stored._secret.cache_clear()
        stored.answer(engine, fn, 1, keeper=company.store, background=False)
        monkeypatch.setenv("KPI_INSIGHTS_KEY", "another key")
        stored._secret.cache_clear()
        stored.answer(engine, fn, 1, keeper=company.store, background=False)
        assert len(fn.calls) == 2
    finally:
        monkeypatch.delenv("KPI_INSIGHTS_KEY")
        stored._secret.cache_clear()


def test_an_answer_of_older_data_never_replaces_a_newer_one(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    with company.store.transaction():
        new = stored.bump(company.store, "import")
    stored.answer(engine, fn, 1, keeper=company.store, background=False)  # kept at ``new``
    question = stored.key(fn, (1,))
    stored._save(company.store, question, "counted", new - 1, pd.DataFrame({"n": [99]}), 1.0,
                 None, "x")  # a slow thread that started before the import ends now
    kept = stored.status(engine, fn, 1)
    assert kept is not None and kept.version == new
    assert stored.answer(engine, fn, 1)["n"].tolist() == [1]


def test_work_asked_while_the_same_work_runs_runs_after_it() -> None:
    import threading

    started, release, done = threading.Event(), threading.Event(), []

    def first() -> None:
        started.set()
        release.wait(10)
        done.append("first")

    stored._in_background("refresh-test", first)
    assert started.wait(10)
    stored._in_background("refresh-test", lambda: done.append("second"))
    stored._in_background("refresh-test", lambda: done.append("third"))  # the latest asked
    release.set()
    assert stored.wait_idle(10)
    assert done == ["first", "third"]


class Held(Counted):
    """A view that does not answer until released (a long computation)."""

    def __init__(self) -> None:
        import threading

        super().__init__()
        self.started, self.release = threading.Event(), threading.Event()
        self.entered = 0  # computations begun

    def __call__(self, engine: Engine, *args: object) -> pd.DataFrame:
        self.entered += 1
        self.started.set()
        assert self.release.wait(10)
        return super().__call__(engine, *args)


def shared(tmp_path: Path) -> tuple[Engine, DuckDBStore]:
    """The app's engine and writer on one database file (connections threads may share)."""
    DuckDBStore.create(tmp_path / "shared.duckdb").close()
    return (Engine(DuckDBStore.shared(tmp_path / "shared.duckdb")),
            DuckDBStore.shared(tmp_path / "shared.duckdb", read_only=False))


def test_a_page_waits_for_the_answer_the_refresh_is_computing(tmp_path: Path) -> None:
    """Nothing kept yet and the refresh (after an import, or a server's start) computing the
    question: a visit gets the refresh's answer instead of computing it a second time."""
    import threading

    (engine, keeper), fn = shared(tmp_path), Held()
    stored.refresh_in_background(engine, keeper, lambda: [(fn, (1,))])
    assert fn.started.wait(10)
    got: list[pd.DataFrame] = []
    visit = threading.Thread(target=lambda: got.append(stored.answer(engine, fn, 1, keeper=keeper)))
    visit.start()
    visit.join(0.3)
    assert visit.is_alive() and not got and fn.entered == 1  # waiting, not computing
    fn.release.set()
    visit.join(10)
    assert stored.wait_idle(10)
    assert len(fn.calls) == 1 and got[0]["n"].tolist() == [1]


def test_a_stale_answer_shows_at_once_while_the_refresh_computes_the_new_one(
        tmp_path: Path) -> None:
    (engine, keeper), fn = shared(tmp_path), Held()
    fn.release.set()
    first = stored.answer(engine, fn, 1, keeper=keeper, background=False)
    with keeper.transaction():
        stored.bump(keeper, "test")
    fn.release.clear()
    fn.started.clear()
    stored.refresh_in_background(engine, keeper, lambda: [(fn, (1,))])
    assert fn.started.wait(10)
    pd.testing.assert_frame_equal(stored.answer(engine, fn, 1, keeper=keeper), first)
    fn.release.set()
    assert stored.wait_idle(10)
    assert stored.answer(engine, fn, 1)["n"].tolist() == [2]  # the new one, kept
    assert len(fn.calls) == 2  # the visit did not start a second computation


def test_a_refresh_skips_what_is_kept_on_this_data_and_waits_for_what_a_visit_computes(
        tmp_path: Path) -> None:
    import threading

    (engine, keeper), fn = shared(tmp_path), Held()
    fn.release.set()
    stored.answer(engine, fn, 1, keeper=keeper, background=False)
    took = stored.refresh(engine, keeper, [(fn, (1,))])
    assert took == {"counted": 0.0} and len(fn.calls) == 1  # kept on this data: read
    with keeper.transaction():
        stored.bump(keeper, "test")
    fn.release.clear()
    fn.started.clear()
    stored.answer(engine, fn, 1, keeper=keeper)  # the stale answer; the new one computed behind
    assert fn.started.wait(10)
    refreshed = threading.Thread(target=lambda: stored.refresh(engine, keeper, [(fn, (1,))]))
    refreshed.start()
    refreshed.join(0.3)
    assert refreshed.is_alive() and fn.entered == 2  # waiting for the visit's computation
    fn.release.set()
    refreshed.join(10)
    assert stored.wait_idle(10)
    assert len(fn.calls) == 2


def test_newer_data_ends_a_refresh(tmp_path: Path) -> None:
    (engine, keeper), fn = shared(tmp_path), Counted()

    def importing(engine: Engine, *args: object) -> pd.DataFrame:
        with keeper.transaction():
            stored.bump(keeper, "an import meanwhile")
        return fn(engine, *args)

    importing.__name__ = "importing"
    took = stored.refresh(engine, keeper, [(importing, (1,)), (fn, (2,)), (fn, (3,))])
    assert list(took) == ["importing"] and fn.calls == [(1,)]


def test_a_database_that_cannot_be_written_remembers_the_answer_in_this_process(
        tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    DuckDBStore.create(path).close()
    with DuckDBStore.open(path) as store:
        fn = Counted()
        for _ in range(3):
            stored.answer(Engine(store), fn, 1, keeper=store, background=False)
        assert len(fn.calls) == 1
        assert stored.status(Engine(store), fn, 1) is None


def test_every_import_makes_the_kept_answers_stale(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    assert stored.last_change(company.store) is None
    stored.answer(engine, fn, 1, keeper=company.store, background=False)
    text = b"rep_id,name,hire_date\nr2,Bo,2024-01-01\n"
    plan = plan_import([Source("reps.csv", text)], load_preset("canonical"), company.store)
    load(company.store, plan)
    assert stored.version(company.store) > 0
    assert company.store.scalar("SELECT why FROM data_versions").startswith("import ")
    change = stored.last_change(company.store)
    assert change is not None and change["why"].startswith("import ")
    assert abs(change["changed_at"] - dt.datetime.now()) < dt.timedelta(minutes=5)
    kept = stored.status(engine, fn, 1)
    assert kept is not None and not kept.fresh


def test_a_refresh_goes_on_past_a_question_that_cannot_be_answered(company: Tiny) -> None:
    def refused(engine: Engine, x: int) -> None:
        raise InvalidRequest("too little data", "wait for more")

    def broken(engine: Engine, x: int) -> None:
        raise KeyError("team")

    fn = Counted()
    took = stored.refresh(Engine(company.store), company.store,
                          [(refused, (1,)), (broken, (1,)), (fn, (2,))])
    assert took["refused"] == "too little data — wait for more"
    assert took["broken"] == "KeyError: 'team'"
    assert isinstance(took["counted"], float) and fn.calls == [(2,)]
    assert stored.status(Engine(company.store), fn, 2) is not None
    assert stored.status(Engine(company.store), refused, 1) is None
