"""Weekly levers and own baselines by hand: a rep who has left keeps their own baseline in the
weeks they worked; a rate's target raises each rep's own baseline even when the initiative has one
standard for the per-rep-week levers; a rep with nothing to raise has no target (None); and a rep
whose baseline is undefined has no own baseline at all.

The baseline weeks of every initiative here are 17 February - 2 March 2025 (rollout Monday
3 March).
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.initiatives import create_initiative, get_initiative
from kpi.periods import Window
from kpi.views import lever_weeks, own_baselines
from tests.conftest import Tiny, d


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [(r.period, r.rep, r.value, r.target, r.own_baseline, r.score)
            for r in frame.itertuples()]


def test_a_rep_who_left_keeps_their_own_baseline_in_the_weeks_they_worked(tiny: Tiny) -> None:
    """T: A and B, hired 1 January 2025, hold 2 and 1 meetings every Tuesday from 18 February
    to 11 March; B leaves on Wednesday 12 March. "Meet more" raises meetings by 50%; two reps
    are too few for one standard, so each rep's own baseline is raised: 3 for A, 1.5 for B.
    In the week of 10 March B worked 3 days (10-12 March): 1 meeting over 3/7 of a week, 7/3,
    scored 7/3 / 1.5 = 14/9 -- B having left by now takes nothing from those weeks."""
    tiny.team("T")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("B", "T", hired="2025-01-01", left="2025-03-12")
    for day in ("2025-02-18", "2025-02-25", "2025-03-04", "2025-03-11"):
        tiny.activity("A", day, n=2)
        tiny.activity("B", day, n=1)
    initiative = tiny.meet_more()
    frame = lever_weeks(tiny.engine, "meetings", Scope.teams("T"), d("2025-03-16"), 2,
                        initiative)
    assert rows(frame) == [
        (d("2025-03-03"), "Rep A", 2.0, 3.0, 2.0, pytest.approx(2 / 3)),
        (d("2025-03-03"), "Rep B", 1.0, 1.5, 1.0, pytest.approx(2 / 3)),
        (d("2025-03-10"), "Rep A", 2.0, 3.0, 2.0, pytest.approx(2 / 3)),
        (d("2025-03-10"), "Rep B", pytest.approx(7 / 3), 1.5, 1.0, pytest.approx(14 / 9))]


def test_a_rate_target_raises_each_reps_own_win_rate_not_the_initiatives(
        tiny: Tiny, small_groups: None) -> None:
    """T: A and B, hired 1 January 2024. In the baseline weeks A wins 1 of 2 deals (1/2) and B
    1 of 4 (1/4); T's win rate is 2/6. "Win more" raises the win rate by 20%, and with minimum
    groups of one T has a standard for per-rep-week levers -- but a rate is no per-rep-week
    lever: A's target is 1/2 x 1.2 = 0.6 and B's 1/4 x 1.2 = 0.3, not 2/6 x 1.2 = 0.4 for both.
    In the week of 3 March A wins their one deal (score 1 / 0.6) and B loses theirs (0)."""
    tiny.team("T")
    tiny.rep("A", "T", hired="2024-01-01")
    tiny.rep("B", "T", hired="2024-01-01")
    for rep, outcomes in (("A", (True, False)), ("B", (True, False, False, False))):
        for won in outcomes:
            tiny.deal(rep, "2025-01-15", "2025-02-20", won=won, amount=100)
    tiny.deal("A", "2025-01-15", "2025-03-05", won=True, amount=100)
    tiny.deal("B", "2025-01-15", "2025-03-05", won=False, amount=100)
    create_initiative(tiny.store, name="Win more", strategy="win more", tactics="qualify",
                      rollout_date=d("2025-03-03"), baseline_weeks=2, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"win_rate": 0.2})
    frame = lever_weeks(tiny.engine, "win_rate", Scope.teams("T"), d("2025-03-09"), 1,
                        get_initiative(tiny.store, "win-more"))
    assert rows(frame) == [
        (d("2025-03-03"), "Rep A", 1.0, pytest.approx(0.6), 0.5, pytest.approx(1 / 0.6)),
        (d("2025-03-03"), "Rep B", 0.0, pytest.approx(0.3), 0.25, 0.0)]


def test_a_rep_with_no_baseline_to_raise_has_no_target(newcomer: Tiny) -> None:
    """N (see the newcomer fixture) holds 1 meeting on Tuesday 4 March: N has no own baseline,
    so no target and no score in either week."""
    newcomer.activity("N", "2025-03-04")
    initiative = newcomer.meet_more()
    frame = lever_weeks(newcomer.engine, "meetings", Scope.reps("N"), d("2025-03-16"), 2,
                        initiative)
    assert [(r.period, r.rep, r.value) for r in frame.itertuples()] == [
        (d("2025-03-03"), "Rep N", 1.0), (d("2025-03-10"), "Rep N", 0.0)]
    assert frame["target"].tolist() == [None, None]
    assert frame["own_baseline"].isna().tolist() == [True, True]
    assert frame["score"].isna().tolist() == [True, True]


def test_a_rep_who_won_nothing_has_no_own_average_deal_size(tiny: Tiny) -> None:
    """17 February - 2 March 2025: A wins deals of 100 and 300 (an average of 200); B closes one
    deal and loses it, so B's average won deal is undefined: B is left out, not given NaN."""
    tiny.team("T")
    tiny.rep("A", "T", hired="2024-01-01")
    tiny.rep("B", "T", hired="2024-01-01")
    tiny.deal("A", "2025-01-15", "2025-02-20", won=True, amount=100)
    tiny.deal("A", "2025-01-15", "2025-02-27", won=True, amount=300)
    tiny.deal("B", "2025-01-15", "2025-02-20", won=False, amount=500)
    window = Window(d("2025-02-17"), d("2025-03-02"))
    assert own_baselines(tiny.engine, "avg_deal_size", ["A", "B"], window) == {"Rep A": 200.0}
