"""Reps off track, rep x week lever scores and own baselines, by hand, without an initiative.

'Today' is Wednesday 25 June 2025: the last complete week ended Sunday 22 June, and the eight
weeks before it began on Mondays 28 April ... 16 June. Without an initiative the baseline is the
13 weeks before the last 13: Monday 16 December 2024 - Sunday 16 March 2025.

Team T: A, B and Y (hired 2024) gave 2 demos every baseline week. X was in team U (6 demos a
week) until moving to T on Monday 5 May 2025: inside T, X has no baseline days of their own, so
X's goal is T's baseline, (26 + 26 + 26) / 39 rep-weeks = 2 a week.
Demos per week from Monday 21 April (one week before the eight) to 16 June:
  A  1 1 1 1 1 1 1 1 0   below for all 8 weeks (and the one before), last week 0
  B  2 2 2 2 2 2 2 1 1   below the last 2 weeks, last week 1
  Y  2 2 2 2 2 2 2 1 1   the same as B
  X  (in U)  2 2 2 2 2 1 1 in T from 5 May: 7 weeks, below the last 2
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import lever_weeks, off_track, own_baselines
from tests.conftest import Tiny, d

TODAY = d("2025-06-25")
LAST_COMPLETE = d("2025-06-22")
BASELINE = Window(d("2024-12-16"), d("2025-03-16"))
BASELINE_MONDAYS = [str(m.date()) for m in pd.date_range("2024-12-16", "2025-03-10", freq="7D")]
MONDAYS = [str(m.date()) for m in pd.date_range("2025-04-21", "2025-06-16", freq="7D")]  # 9
NAN = pytest.approx(math.nan, nan_ok=True)


def demos(tiny: Tiny, counts: dict[tuple[str, str], int]) -> None:
    """(rep, day) -> demos that day, written at once."""
    rows = [{"activity_id": f"D{rep}{day}{k}", "rep_id": rep, "account_id": None, "opp_id": None,
             "occurred_at": pd.Timestamp(day) + pd.Timedelta(hours=10), "type": "demo",
             "new_prospect": False} for (rep, day), n in counts.items() for k in range(n)]
    with tiny.store.transaction():
        tiny.store.insert_frame("activities", pd.DataFrame(rows))


def build() -> Tiny:
    tiny = Tiny()
    tiny.team("T")
    tiny.team("U")
    for rep in ("A", "B", "Y"):
        tiny.rep(rep, "T", hired="2024-01-01")
    tiny.rep("X", "U", hired="2024-01-01")
    tiny.move("X", "T", "2025-05-05")
    counts = {}
    for monday in BASELINE_MONDAYS:
        counts.update({("A", monday): 2, ("B", monday): 2, ("Y", monday): 2, ("X", monday): 6})
    weekly = {"A": [1, 1, 1, 1, 1, 1, 1, 1, 0], "B": [2, 2, 2, 2, 2, 2, 2, 1, 1],
              "Y": [2, 2, 2, 2, 2, 2, 2, 1, 1], "X": [6, 6, 2, 2, 2, 2, 2, 1, 1]}
    for rep, weeks in weekly.items():
        counts.update({(rep, monday): n for monday, n in zip(MONDAYS, weeks, strict=True)})
    demos(tiny, counts)
    return tiny


@pytest.fixture(scope="module")
def company() -> Iterator[Tiny]:
    tiny = build()
    yield tiny
    tiny.store.close()


@pytest.fixture
def team(company: Tiny, small_groups: None) -> Tiny:
    return company


def test_off_track_longest_run_first(team: Tiny) -> None:
    """A: 8 weeks below (all eight looked at), last week 0 of 2: shortfall 1. B, X and Y: 2 weeks,
    last week 1 of 2: shortfall 0.5, in name order."""
    table = off_track(team.engine, ["demos"], Scope.teams("T"), TODAY)
    assert list(table.columns) == ["rep", "lever", "weeks_below", "last_week", "target",
                                   "own_baseline", "shortfall"]
    assert table.index.tolist() == [0, 1, 2, 3]
    assert [tuple(r) for r in table.itertuples(index=False)] == [
        ("Rep A", "Demos", 8, 0.0, None, 2.0, 1.0),
        ("Rep B", "Demos", 2, 1.0, None, 2.0, 0.5),
        ("Rep X", "Demos", 2, 1.0, None, 2.0, 0.5),
        ("Rep Y", "Demos", 2, 1.0, None, 2.0, 0.5),
    ]


def test_off_track_needs_the_run_asked_for(team: Tiny) -> None:
    """Three weeks in a row: only A; nine: nobody (8 weeks are looked at), and the empty table
    still has its columns."""
    three = off_track(team.engine, ["demos"], Scope.teams("T"), TODAY, min_weeks=3)
    assert three["rep"].tolist() == ["Rep A"]
    nine = off_track(team.engine, ["demos"], Scope.teams("T"), TODAY, min_weeks=9)
    assert nine.empty
    assert list(nine.columns) == ["rep", "lever", "weeks_below", "last_week", "target",
                                  "own_baseline", "shortfall"]


def test_lever_weeks_leave_out_weeks_outside_the_scope(team: Tiny) -> None:
    """X's weeks in T only (from 5 May), against T's baseline; A's last week scores 0 / 2."""
    frame = lever_weeks(team.engine, "demos", Scope.teams("T"), LAST_COMPLETE, 8)
    assert frame.index.tolist() == list(range(31))  # 8 + 8 + 8 + 7 rep-weeks
    assert list(frame.columns) == ["period", "rep", "value", "numerator", "denominator",
                                   "is_partial", "target", "own_baseline", "score"]
    assert frame.groupby("rep").size().to_dict() == {"Rep A": 8, "Rep B": 8, "Rep X": 7, "Rep Y": 8}
    x = frame[frame["rep"] == "Rep X"].sort_values("period")
    assert [(str(r.period), r.value, r.own_baseline, r.score) for r in x.itertuples()] == [
        ("2025-05-05", 2.0, 2.0, 1.0), ("2025-05-12", 2.0, 2.0, 1.0),
        ("2025-05-19", 2.0, 2.0, 1.0), ("2025-05-26", 2.0, 2.0, 1.0),
        ("2025-06-02", 2.0, 2.0, 1.0), ("2025-06-09", 1.0, 2.0, 0.5),
        ("2025-06-16", 1.0, 2.0, 0.5)]
    a = frame[frame["rep"] == "Rep A"].sort_values("period")
    assert a["score"].tolist() == [0.5] * 7 + [0.0]
    assert a["target"].isna().all()
    # the whole company: X is measured on all their days, and their own baseline is 6 a week
    everyone = lever_weeks(team.engine, "demos", Scope.everyone(), LAST_COMPLETE, 8)
    x = everyone[everyone["rep"] == "Rep X"].sort_values("period")
    assert x["value"].tolist() == [6.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0]
    assert x["own_baseline"].tolist() == [6.0] * 8


def test_a_goal_of_zero_scores_nothing_and_a_goal_of_one_scores(tiny: Tiny) -> None:
    """V gave no demos in the baseline (goal 0: no score, not infinity), W one a week (goal 1);
    both give 1 a week since: V unscored, W exactly on the goal."""
    tiny.team("U")
    tiny.rep("V", "U", hired="2024-01-01")
    tiny.rep("W", "U", hired="2024-01-01")
    for monday in BASELINE_MONDAYS:
        tiny.activity("W", monday, type="demo")
    for monday in MONDAYS[-2:]:
        tiny.activity("V", monday, type="demo")
        tiny.activity("W", monday, type="demo")
    frame = lever_weeks(tiny.engine, "demos", Scope.teams("U"), LAST_COMPLETE, 2, against="own")
    assert [(r.rep, str(r.period), r.value, r.own_baseline, r.score)
            for r in frame.sort_values(["rep", "period"]).itertuples()] == [
        ("Rep V", "2025-06-09", 1.0, 0.0, NAN), ("Rep V", "2025-06-16", 1.0, 0.0, NAN),
        ("Rep W", "2025-06-09", 1.0, 1.0, 1.0), ("Rep W", "2025-06-16", 1.0, 1.0, 1.0)]


def test_own_baselines_within_teams(team: Tiny) -> None:
    """Over the baseline weeks: everyone's own; X inside T has no days there, so T's 2."""
    assert own_baselines(team.engine, "demos", ["A", "X"], BASELINE) == {"Rep A": 2.0, "Rep X": 6.0}
    assert own_baselines(team.engine, "demos", ["A", "X"], BASELINE, LAST_COMPLETE,
                         within=("T",)) == {"Rep A": 2.0, "Rep X": 2.0}
    assert own_baselines(team.engine, "demos", [], BASELINE) == {}


def test_a_new_hire_gets_the_team_they_are_in_on_the_day(small_groups: None) -> None:
    """N joins U on Monday 3 March 2025 (2 of the 13 baseline weeks: too few) and moves to T on
    1 April: on 22 June N's baseline is T's; at the baseline's end N was in U, whose only other
    rep, X, gave 6 a week: U's baseline then is (78 + 2 x 3) / (13 + 2) rep-weeks = 5.6."""
    team = build()
    team.rep("N", "U", hired="2025-03-03")
    demos(team, {("N", "2025-03-03"): 3, ("N", "2025-03-10"): 3})
    team.move("N", "T", "2025-04-01")
    try:
        assert own_baselines(team.engine, "demos", ["N"], BASELINE, LAST_COMPLETE) == {"Rep N": 2.0}
        assert own_baselines(team.engine, "demos", ["N"], BASELINE) == {"Rep N": pytest.approx(5.6)}
    finally:
        team.store.close()
