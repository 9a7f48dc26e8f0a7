"""The small pieces of kpi.views, by hand: a rep's pace to the period's goal, which weeks count
as below goal and by how much, the default baseline window and what a one-rep view accepts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import Pace, baseline_window, rep_scope
from kpi.views.levers import _shortfall, _weeks_below
from tests.conftest import d

MARCH = Window(d("2025-03-01"), d("2025-03-31"))


def pace(actual: float, goal_rate: float | None) -> Pace:
    """19 March: 19 of March's 31 days gone, the rep active 2 rep-weeks so far."""
    return Pace("demos", "Demos", "per_rep_week", "month", MARCH, 19, 2.0, actual, goal_rate,
                "target", None)


def test_pace_to_the_goal_of_the_period() -> None:
    behind = pace(3.0, 2.0)
    # 2 a week: 4 by now; the goal adds the 12 days still to come, 2 x (2 + 12/7)
    assert behind.expected_by_now == 4.0
    assert behind.goal == pytest.approx(2 * (2 + 12 / 7))
    assert behind.more_to_stay_on_pace == 1
    assert behind.more_for_period == math.ceil(2 * (2 + 12 / 7) - 3)  # 5
    ahead = pace(10.0, 2.0)
    assert (ahead.more_to_stay_on_pace, ahead.more_for_period) == (0, 0)
    none = pace(3.0, None)
    assert (none.goal, none.expected_by_now, none.more_to_stay_on_pace,
            none.more_for_period) == (None, None, None, None)


def week(value: float, target: float | None, own: float | None) -> dict:
    return {"value": value, "target": target, "own_baseline": own}


def test_weeks_below_count_back_from_the_last_week() -> None:
    weeks = pd.DataFrame([week(1, 2, None), week(3, 2, None), week(1, 2, None), week(2, None, 3)])
    assert _weeks_below(weeks) == 2  # the last two; the second week was on target
    assert _weeks_below(pd.DataFrame([week(2, 2, 2)])) == 0  # on the goal is not below it
    assert _weeks_below(pd.DataFrame([week(1, None, None)])) == 0  # no goal: never below
    assert _weeks_below(pd.DataFrame([week(1, 2, 0.5), week(1, 0.5, 2)])) == 2  # either goal


def test_shortfall_is_against_the_higher_goal() -> None:
    assert _shortfall(pd.Series(week(3, 4, 5))) == pytest.approx(0.4)  # 1 - 3/5
    assert _shortfall(pd.Series(week(3, 5, None))) == pytest.approx(0.4)
    assert _shortfall(pd.Series(week(6, 4, 5))) == 0.0
    assert _shortfall(pd.Series(week(3, None, None))) == 0.0
    assert _shortfall(pd.Series(week(3, 0, 4))) == pytest.approx(0.25)  # a goal of 0 is none


def test_the_default_baseline_is_the_13_weeks_before_the_last_13() -> None:
    # Wednesday 19 March 2025: this week began Monday 17 March; the 13 weeks before it began
    # Monday 16 December 2024, and the 13 before those Monday 16 September 2024
    assert baseline_window(None, d("2025-03-19")) == Window(d("2024-09-16"), d("2024-12-15"))
    assert baseline_window(None, d("2025-03-17")) == Window(d("2024-09-16"), d("2024-12-15"))
    assert baseline_window(None, d("2025-03-16")) == Window(d("2024-09-09"), d("2024-12-08"))


def test_a_one_rep_view_takes_one_rep() -> None:
    own = Scope.reps("r1").seen_by("rep")
    assert rep_scope(own) is own
    inside = Scope.rep_in_teams("r1", "T")
    assert rep_scope(inside) is inside
    for wrong in (Scope.teams("T"), Scope.reps("r1", "r2"), Scope.everyone()):
        with pytest.raises(ValueError, match="one rep expected"):
            rep_scope(wrong)
