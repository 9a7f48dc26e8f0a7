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
from kpi.store import Store

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
    for scope in (Scope.teams("T1"), Scope.reps("r1"), Scope.teams("T1").seen_by("manager")):
        stored.answer(engine, fn, scope, keeper=company.store, background=False)
    assert len(fn.calls) == 3
    assert company.store.scalar("SELECT count(*) FROM stored_insights") == 3


def test_after_a_change_the_last_answer_shows_while_the_new_one_is_computed(
        company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    first = stored.answer(engine, fn, 1, keeper=company.store, background=False)
    with company.store.transaction():
        assert stored.bump(company.store, "test") == 1
    stale = stored.answer(engine, fn, 1, keeper=company.store)
    pd.testing.assert_frame_equal(stale, first)
    assert stored.wait_idle(30)
    assert len(fn.calls) == 2
    kept = stored.status(engine, fn, 1)
    assert kept is not None and kept.fresh and kept.version == 1
    assert stored.answer(engine, fn, 1, keeper=company.store)["n"].tolist() == [2]


def test_without_a_store_that_may_write_nothing_is_kept(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    stored.answer(engine, fn, 1, background=False)
    stored.answer(engine, fn, 1, background=False)
    assert len(fn.calls) == 2
    assert stored.status(engine, fn, 1) is None


def test_a_read_only_database_answers_without_keeping(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    Store.create(path).close()
    with Store.open(path) as store:
        fn = Counted()
        assert len(stored.answer(Engine(store), fn, 1, keeper=store, background=False)) == 1
        assert stored.status(Engine(store), fn, 1) is None
        assert stored.version(store) == 0


class Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch evil-was-here",))


def test_a_tampered_row_never_runs_code_and_is_computed_again(company: Tiny, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.chdir(tmp_path)
    engine, fn = Engine(company.store), Counted()
    stored.answer(engine, fn, 1, keeper=company.store, background=False)
    with company.store.transaction():
        company.store.execute("UPDATE stored_insights SET payload = $p",
                              {"p": pickle.dumps(Evil())})
    got = stored.answer(engine, fn, 1, keeper=company.store, background=False)
    assert not (tmp_path / "evil-was-here").exists()
    assert len(fn.calls) == 2 and got["n"].tolist() == [2]


def test_every_import_makes_the_kept_answers_stale(company: Tiny) -> None:
    engine, fn = Engine(company.store), Counted()
    stored.answer(engine, fn, 1, keeper=company.store, background=False)
    text = b"rep_id,name,hire_date\nr2,Bo,2024-01-01\n"
    plan = plan_import([Source("reps.csv", text)], load_preset("canonical"), company.store)
    load(company.store, plan)
    assert stored.version(company.store) == 1
    assert company.store.scalar("SELECT why FROM data_versions").startswith("import ")
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
