"""The views' answers kept by a process (kpi.answers): one computation per question, copies out."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from kpi.answers import Answers
from kpi.engine import Scope
from tests.conftest import Tiny, d


def test_an_equal_question_is_answered_once_and_each_caller_gets_a_copy() -> None:
    answers, calls = Answers(), []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"value": [1.0, 2.0]})

    question = ("demo.duckdb", 7, None, "views.cards", (Scope.teams("T1"),), ())
    first = answers.get(question, compute)
    first.loc[0, "value"] = 99.0  # a caller changing its copy
    again = answers.get(("demo.duckdb", 7, None, "views.cards", (Scope.teams("T1"),), ()), compute)
    assert calls == [1]
    assert again["value"].tolist() == [1.0, 2.0]
    answers.get(("demo.duckdb", 7, None, "views.cards", (Scope.teams("T2"),), ()), compute)
    answers.get(("demo.duckdb", 8, None, "views.cards", (Scope.teams("T1"),), ()), compute)
    assert calls == [1, 1, 1]  # another scope, another data version


def test_a_question_asked_while_it_is_computed_waits_for_that_answer() -> None:
    answers, calls, results = Answers(), [], []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    threads = [threading.Thread(target=lambda: results.append(answers.get(("q",), compute)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and results == [42] * 4


def test_old_and_surplus_answers_go_and_a_failure_is_not_kept() -> None:
    answers = Answers(entries=2, seconds=0.2)
    for n in range(3):
        answers.get((n,), lambda n=n: n)
    assert answers.get((0,), lambda: "again") == "again"  # the oldest went first
    assert answers.get((2,), lambda: "again") == 2
    time.sleep(0.25)
    assert answers.get((2,), lambda: "later") == "later"  # out of date

    def fails() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        answers.get(("x",), fails)
    assert answers.get(("x",), lambda: 1) == 1
    answers.clear()
    assert answers.get((2,), lambda: "cleared") == "cleared"


def test_work_begun_before_a_clear_is_not_kept_and_nothing_is_left_working() -> None:
    answers, started, release = Answers(), threading.Event(), threading.Event()

    def slow_old() -> str:
        started.set()
        release.wait(5)
        return "before the edit"

    got: list[str] = []
    worker = threading.Thread(target=lambda: got.append(answers.get(("initiatives",), slow_old)))
    worker.start()
    started.wait(5)
    answers.clear()  # an edit saved while the old answer is being computed
    release.set()
    worker.join()
    assert got == ["before the edit"]  # its own caller gets it...
    assert answers.get(("initiatives",), lambda: "after the edit") == "after the edit"  # ...no one else
    with pytest.raises(ValueError):
        answers.get(("fails",), lambda: int("x"))
    assert not answers._working


# --- asking a view: answered once per state of the database ------------------------------------

def test_a_view_is_computed_again_after_an_edit_or_new_data_by_anyone_and_only_then(
        tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpi import answers, views
    from kpi.initiatives import add_review, recalibrate, update_initiative
    from kpi.insights import stored

    tiny.rep("R1", "T")
    tiny.activity("R1", "2025-03-04", new_prospect=True)
    initiative = tiny.meet_more()
    engine, calls = tiny.engine, []
    monkeypatch.setattr(answers, "ANSWERS", Answers())
    monkeypatch.setattr(answers, "_STATES", answers.Recent(8, answers.STATE_SECONDS))

    def choice(engine: object, scope: Scope) -> tuple[str, ...]:
        calls.append(1)
        offered, _ = views.initiative_choice(engine, scope)  # type: ignore[arg-type]
        return tuple(f"{i.name}: {[t.change_pct for t in i.targets]} {len(i.reviews)} {i.teams}"
                     for i in offered)

    def ask() -> tuple[str, ...]:
        answers._STATES.clear()  # as after STATE_SECONDS
        return answers.ask(engine, choice, Scope.everyone())  # type: ignore[no-any-return]

    assert ask() == ("Meet more: [0.5] 0 (('T', datetime.date(2025, 3, 3)),)",)
    assert ask() == ask() and len(calls) == 1  # nothing changed: read, not computed
    # edits written by another process: the state read from the database tells
    recalibrate(tiny.store, initiative.initiative_id, "meetings", 0.6, d("2025-04-07"))
    assert ask() == ("Meet more: [0.5, 0.6] 0 (('T', datetime.date(2025, 3, 3)),)",)
    add_review(tiny.store, initiative.initiative_id, d("2025-04-07"), "more demos")
    assert ask()[0].endswith("1 (('T', datetime.date(2025, 3, 3)),)")
    update_initiative(tiny.store, initiative.initiative_id, name="Meet more", strategy="s",
                      tactics="t", rollout_date=d("2025-03-03"), baseline_weeks=2,
                      target_date=d("2025-06-30"), teams={"T": d("2025-03-10")})
    assert ask()[0].endswith("(('T', datetime.date(2025, 3, 10)),)")
    assert len(calls) == 4
    with tiny.store.transaction():
        stored.bump(tiny.store, "an import")
    ask()
    assert len(calls) == 5  # new data


def test_a_state_is_trusted_for_a_few_seconds_then_read_again(
        tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpi import answers
    from kpi.insights import stored

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(answers, "_STATES", answers.Recent(8, answers.STATE_SECONDS))
    tiny.rep("R1", "T")
    reads: list[int] = []
    first = answers.current_state(tiny.store, lambda: reads.append(1))
    with tiny.store.transaction():
        stored.bump(tiny.store, "an import")
    clock[0] += answers.STATE_SECONDS - 0.1
    assert answers.current_state(tiny.store, lambda: reads.append(1)) == first and reads == [1]
    clock[0] += 0.2
    now = answers.current_state(tiny.store, lambda: reads.append(1))
    assert reads == [1, 1] and now[0] == stored.version(tiny.store) > first[0]


def test_each_in_memory_database_is_its_own_even_after_another_is_gone() -> None:
    from kpi.store import MEMORY, DuckDBStore, identity

    seen = set()
    for _ in range(20):  # a closed store's id() is given to a later one
        store = DuckDBStore.open(MEMORY)
        seen.add((id(store), identity(store)))
        store.close()
        del store
    assert len({name for _, name in seen}) == 20
    assert len({ident for ident, _ in seen}) < 20  # ids were reused: the names were not


def test_a_failed_read_of_the_state_raises_instead_of_passing_for_no_edits(
        tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpi import answers
    from kpi.errors import DatabaseError

    tiny.meet_more()
    empty = Tiny()
    assert answers.state(tiny.store) != answers.state(empty.store)  # no rollouts: another state
    empty.store.close()
    read = tiny.store.rows

    def dropped(sql: str, params: object = None) -> object:
        if "initiative_targets" in sql:
            raise DatabaseError("server closed the connection unexpectedly")
        return read(sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(tiny.store, "rows", dropped)
    with pytest.raises(DatabaseError, match="closed the connection"):
        answers.state(tiny.store)
