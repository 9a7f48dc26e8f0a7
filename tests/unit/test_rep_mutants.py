"""One rep's pace by hand: a lever the initiative targets, for a rep with nothing to raise.

Team T: A, hired 1 January 2025, and N, hired Wednesday 26 February 2025, who holds 1 meeting on
Tuesday 18 March. "Meet more" (T, baseline 17 February - 2 March, rollout Monday 3 March)
raises meetings by 50%. 'Today' is Wednesday 19 March.
"""

from __future__ import annotations

import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import pace
from tests.conftest import Tiny, d

TODAY = d("2025-03-19")


def test_a_targeted_lever_with_nothing_to_raise_has_no_goal(newcomer: Tiny) -> None:
    """N (see the newcomer fixture) has nothing to raise, so N's meetings are paced against no
    goal at all (and do not fail). N was active 3 days of this week, 19 of this month and 22
    (since 26 February) of this quarter."""
    newcomer.activity("N", "2025-03-18")
    initiative = newcomer.meet_more()
    got = pace(newcomer.engine, Scope.reps("N"), ["meetings"], TODAY, initiative)
    assert [(p.grain, p.period, p.elapsed_days, pytest.approx(p.active_weeks), p.actual,
             p.goal_rate, p.goal_kind, p.own_rate, p.goal) for p in got] == [
        ("week", Window(d("2025-03-17"), d("2025-03-23")), 3, 3 / 7, 1.0,
         None, "own baseline", None, None),
        ("month", Window(d("2025-03-01"), d("2025-03-31")), 19, 19 / 7, 1.0,
         None, "own baseline", None, None),
        ("quarter", Window(d("2025-01-01"), d("2025-03-31")), 78, 22 / 7, 1.0,
         None, "own baseline", None, None)]
