"""The views' answers kept by the app process: one computation per question, copies out."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from kpi.engine import Scope
from ui.data import Answers


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
