"""One rep's views, by hand: pace, own and team baselines, a new hire who moved teams, the cards
of a new hire, and which initiatives cover a rep who moved.

Team T (Alpha): reps A and B, hired 1 January 2025. Team U (Beta): rep C, hired 1 January 2024,
4 meetings every Tuesday from 3 September 2024 to 25 February 2025. New rep N is hired on
Wednesday 26 February 2025 into T and moves to U on Monday 10 March; N holds no meetings.
A holds 2 meetings on each of Tuesday 18 and 25 February, 3 on 4 and 11 March and 1 on 18
March; B 1 on each of those four Tuesdays in February and March. 'Today' is Wednesday 19 March.

Initiative "Meet more" (T, baseline 17 February - 2 March, rollout Monday 3 March) raises
meetings by 50%: T's baseline is 6 meetings over A's 14, B's 14 and N's 5 days (33/7
rep-weeks), 14/11 per rep-week, so the target is 21/11. "Demo more" (T, the same weeks) has a
target on demos only, so meetings are measured against each rep's own (or team) baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kpi.disclosure import AGGREGATES
from kpi.engine import Scope
from kpi.initiatives import Initiative, create_initiative, get_initiative, recalibrate
from kpi.periods import Window
from kpi.views import (
    Pace,
    cards,
    covers,
    lever_targets,
    lever_weeks,
    pace,
    rep_trend,
)
from tests.conftest import Tiny, d

TODAY = d("2025-03-19")
TARGET = 1.5 * 6 / (33 / 7)  # 21/11 meetings per rep-week
WEEK, MONTH, QUARTER = (Window(d("2025-03-17"), d("2025-03-23")),
                        Window(d("2025-03-01"), d("2025-03-31")),
                        Window(d("2025-01-01"), d("2025-03-31")))


def company(tiny: Tiny) -> Tiny:
    tiny.team("T", "Alpha")
    tiny.team("U", "Beta")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("B", "T", hired="2025-01-01")
    tiny.rep("C", "U", hired="2024-01-01")
    tiny.rep("N", "T", hired="2025-02-26")
    tiny.move("N", "U", "2025-03-10")
    tuesday = d("2024-09-03")
    while tuesday <= d("2025-02-25"):
        tiny.activity("C", str(tuesday), n=4)
        tuesday += dt.timedelta(weeks=1)
    for day, a, b in (("2025-02-18", 2, 1), ("2025-02-25", 2, 1), ("2025-03-04", 3, 1),
                      ("2025-03-11", 3, 1), ("2025-03-18", 1, 0)):
        tiny.activity("A", day, n=a)
        if b:
            tiny.activity("B", day, n=b)
    for name, targets in (("Meet more", {"meetings": 0.5}), ("Demo more", {"demos": 0.2})):
        create_initiative(tiny.store, name=name, strategy="win more", tactics="meet more",
                          rollout_date=d("2025-03-03"), baseline_weeks=2,
                          target_date=d("2025-06-30"), teams={"T": d("2025-03-03")},
                          targets=targets)
    return tiny


@pytest.fixture
def crew(tiny: Tiny, small_groups: None) -> Tiny:
    return company(tiny)


@pytest.fixture
def strict(tiny: Tiny) -> Tiny:
    """The same company under the real minimum groups: T's three reps are too few to stand in
    for a new rep's baseline."""
    return company(tiny)


def meet(tiny: Tiny) -> Initiative:
    return get_initiative(tiny.store, "meet-more")


def demo(tiny: Tiny) -> Initiative:
    return get_initiative(tiny.store, "demo-more")


def approx_pace(p: Pace) -> tuple:
    return (p.lever, p.label, p.unit, p.grain, p.period, p.elapsed_days,
            pytest.approx(p.active_weeks), p.actual,
            None if p.goal_rate is None else pytest.approx(p.goal_rate), p.goal_kind,
            None if p.own_rate is None else pytest.approx(p.own_rate))


def expect(grain: str, period: Window, elapsed: int, active: float, actual: float,
           goal: float | None, kind: str, own: float | None) -> tuple:
    return ("meetings", "Meetings", "per_rep_week", grain, period, elapsed, active, actual, goal,
            kind, own)


def test_pace_against_the_target_skips_rates_and_keeps_the_own_baseline_beside_it(
        crew: Tiny) -> None:
    """Win rate is no count to pace; A's own baseline is 4 meetings over 2 weeks."""
    got = pace(crew.engine, Scope.reps("A"), ["win_rate", "meetings"], TODAY, meet(crew))
    assert [approx_pace(p) for p in got] == [
        expect("week", WEEK, 3, 3 / 7, 1.0, TARGET, "target", 2.0),
        expect("month", MONTH, 19, 19 / 7, 7.0, TARGET, "target", 2.0),
        expect("quarter", QUARTER, 78, 78 / 7, 11.0, TARGET, "target", 2.0)]


def test_pace_without_a_target_is_against_the_own_baseline(crew: Tiny) -> None:
    (week, _, _) = pace(crew.engine, Scope.reps("A"), ["meetings"], TODAY, demo(crew))
    assert approx_pace(week) == expect("week", WEEK, 3, 3 / 7, 1.0, 2.0, "own baseline", 2.0)
    (week, _, _) = pace(crew.engine, Scope.reps("B"), ["meetings"], TODAY, demo(crew))
    assert approx_pace(week) == expect("week", WEEK, 3, 3 / 7, 0.0, 1.0, "own baseline", 1.0)


def test_a_new_rep_paces_against_the_team_they_are_in_today(crew: Tiny) -> None:
    """N was employed 5 of the 14 baseline days: N is held to the baseline of U, the team N is
    in today (C's 8 meetings in 2 weeks), not to T's, where N started."""
    got = pace(crew.engine, Scope.reps("N"), ["meetings"], TODAY, demo(crew))
    assert [approx_pace(p) for p in got] == [
        expect("week", WEEK, 3, 3 / 7, 0.0, 4.0, "team baseline", 4.0),
        expect("month", MONTH, 19, 19 / 7, 0.0, 4.0, "team baseline", 4.0),
        expect("quarter", QUARTER, 78, 22 / 7, 0.0, 4.0, "team baseline", 4.0)]


def test_a_new_rep_without_a_team_big_enough_has_no_goal(strict: Tiny) -> None:
    """Under the real minimum groups U's one rep cannot stand in for N: no goal at all."""
    (week, _, _) = pace(strict.engine, Scope.reps("N"), ["meetings"], TODAY, demo(strict))
    assert approx_pace(week) == expect("week", WEEK, 3, 3 / 7, 0.0, None, "own baseline", None)
    assert (week.goal, week.more_for_period) == (None, None)


def test_a_new_reps_cards_meet_the_baseline_of_their_team_today(crew: Tiny) -> None:
    """Meetings are a rate per rep-week, so N's March meets U's baseline for the same weekdays
    (1-19 March holds three Tuesdays of 4 meetings: 12 over 19/7 rep-weeks); revenue is a total
    that grows with the team, so a rep's revenue is never compared with a team's."""
    meetings, revenue = cards(crew.engine, ["meetings", "revenue"], "month", TODAY,
                              Scope.reps("N"), meet(crew))
    note = "team baseline (Beta): active 0.7 of the 2 baseline weeks"
    assert (meetings.value, meetings.note, meetings.target_change) == (0.0, note, 0.5)
    assert meetings.baseline == pytest.approx(12 / (19 / 7))
    assert meetings.vs_baseline == pytest.approx(-1.0)
    assert (revenue.baseline, revenue.vs_baseline, revenue.note) == (None, None, note)


def test_a_new_reps_cards_without_a_baseline_say_so(strict: Tiny) -> None:
    (meetings,) = cards(strict.engine, ["meetings"], "month", TODAY, Scope.reps("N"),
                        meet(strict))
    assert (meetings.value, meetings.baseline, meetings.vs_baseline, meetings.note) == (
        0.0, None, None, "not enough baseline: active 0.7 of the 2 baseline weeks")


def test_a_new_reps_weeks_are_scored_against_the_team_they_are_in_today(crew: Tiny) -> None:
    frame = lever_weeks(crew.engine, "meetings", Scope.reps("N"), TODAY, 2, meet(crew))
    rows = [(r.period, r.rep, r.value, r.target, r.own_baseline, r.score)
            for r in frame.itertuples()]
    assert rows == [(d("2025-03-10"), "Rep N", 0.0, pytest.approx(TARGET), 4.0, 0.0),
                    (d("2025-03-17"), "Rep N", 0.0, pytest.approx(TARGET), 4.0, 0.0)]


def test_a_new_reps_trend_without_an_initiative(crew: Tiny) -> None:
    """The 13 weeks before the last 13 (9 September - 8 December 2024) are before N was hired:
    N's baseline is U's, C's 4 a week. B, hired in 2025, has no baseline, and T held nobody
    then to stand in."""
    shown = Window(d("2025-03-03"), d("2025-03-16"))
    frame = rep_trend(crew.engine, Scope.reps("N"), "meetings", "week", shown)
    assert frame["baseline"].tolist() == [4.0, 4.0]
    assert frame["baseline_of"].tolist() == [
        "team baseline (Beta): active 0 of the 13 baseline weeks"] * 2
    other = rep_trend(crew.engine, Scope.reps("B"), "meetings", "week", shown)
    assert other["baseline"].tolist() == [None, None]
    assert other["baseline_of"].tolist() == [
        "not enough baseline: active 0 of the 13 baseline weeks"] * 2


def test_a_reps_trend_has_the_team_average_beside_it(crew: Tiny) -> None:
    """T in the week of 3 March: A's 3 and B's 1 meetings over A, B and N (still in T): 4/3;
    the week of 10 March: 4 over A and B (N has moved): 2."""
    frame = rep_trend(crew.engine, Scope.reps("A"), "meetings", "week", Window(d("2025-03-03"),
                                                                   d("2025-03-16")))
    assert frame["value"].tolist() == [3.0, 3.0]
    assert frame["team_average"].tolist() == pytest.approx([4 / 3, 2.0])


def test_a_reps_trend_with_an_initiative_has_its_target(crew: Tiny) -> None:
    frame = rep_trend(crew.engine, Scope.reps("A"), "meetings", "week",
                      Window(d("2025-03-03"), d("2025-03-16")), meet(crew))
    assert frame["target"].tolist() == pytest.approx([TARGET, TARGET])
    assert frame["team_average"].tolist() == pytest.approx([4 / 3, 2.0])


def test_targets_start_on_the_rollout_day(crew: Tiny) -> None:
    """A version dated before the rollout sets no target for the days before it, and from the
    rollout on the launch target, dated later, is the one in effect."""
    recalibrate(crew.store, meet(crew).initiative_id, "meetings", 1.0, d("2025-02-24"))
    days = [d("2025-03-02"), d("2025-03-03"), d("2025-03-16")]
    assert lever_targets(crew.engine, meet(crew), "meetings", days) == [
        None, pytest.approx(TARGET), pytest.approx(TARGET)]


def test_a_team_initiative_covers_a_rep_who_was_in_the_team_since_its_baseline(
        crew: Tiny) -> None:
    initiative = meet(crew)
    assert covers(crew.engine, initiative, Scope.reps("N"))  # in T until 9 March
    assert not covers(crew.engine, initiative, Scope.reps("C"))
    assert not covers(crew.engine, initiative, Scope("nobody"))  # an unknown kind: nothing


# --- the team average beside one rep: who counts as the others behind it --------------------

@pytest.fixture
def two_behind(tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> Tiny:
    """The average needs 1 other rep (a minimum group of 2). Team T: R, hired 1 January 2025,
    2 meetings on Thursday 6 and on Tuesday 11 March; O, who left on Tuesday 4 March, held one
    on Monday 3 March; P, hired on Thursday 13 March, one on Friday 14 March."""
    monkeypatch.setitem(AGGREGATES, "team_average",
                        dataclasses.replace(AGGREGATES["team_average"], min_group=2))
    tiny.team("T")
    tiny.rep("R", "T", hired="2025-01-01")
    tiny.rep("O", "T", hired="2025-01-01", left="2025-03-04")
    tiny.rep("P", "T", hired="2025-03-13")
    tiny.activity("R", "2025-03-06", n=2)
    tiny.activity("R", "2025-03-11", n=2)
    tiny.activity("O", "2025-03-03")
    tiny.activity("P", "2025-03-14")
    return tiny


def test_colleagues_outside_the_window_are_not_behind_the_average(two_behind: Tiny) -> None:
    """Wednesday 5 - Tuesday 11 March: O left before it began and P came after it ended, so R
    is alone in both weeks and no average is shown."""
    from kpi.views import team_average

    got = team_average(two_behind.engine, Scope.reps("R"), "meetings", "week",
                       Window(d("2025-03-05"), d("2025-03-11")))
    assert got == [None, None]


def test_an_active_colleague_is_behind_the_average_of_a_rate(two_behind: Tiny) -> None:
    """Q works in T all March without closing a deal; R wins one deal and loses one: Q is
    active, so T's win rate of 1/2 is shown beside R."""
    from kpi.views import team_average

    two_behind.rep("Q", "T", hired="2025-01-01")
    two_behind.deal("R", "2025-02-01", "2025-03-06", won=True, amount=100)
    two_behind.deal("R", "2025-02-01", "2025-03-07", won=False, amount=100)
    got = team_average(two_behind.engine, Scope.reps("R"), "win_rate", "month",
                       Window(d("2025-03-01"), d("2025-03-31")))
    assert got == [0.5]


# --- a team too small for one standard: each rep's own baseline is raised -------------------

@pytest.fixture
def pair(tiny: Tiny) -> Tiny:
    """T: A holds 2 meetings and B 1 every Tuesday from 18 February to 11 March 2025. Two reps
    are too few for one standard (it would show each the other's numbers), so "Meet more"
    raises each rep's own baseline by 50%: 3 for A, 1.5 for B."""
    tiny.team("T")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("B", "T", hired="2025-01-01")
    for day in ("2025-02-18", "2025-02-25", "2025-03-04", "2025-03-11"):
        tiny.activity("A", day, n=2)
        tiny.activity("B", day, n=1)
    create_initiative(tiny.store, name="Meet more", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-03"), baseline_weeks=2, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"meetings": 0.5})
    return tiny


def test_without_one_standard_each_rep_is_held_to_their_own_baseline_raised(pair: Tiny) -> None:
    initiative = meet(pair)
    (week, _, _) = pace(pair.engine, Scope.reps("A"), ["meetings"], TODAY, initiative)
    assert approx_pace(week) == expect("week", WEEK, 3, 3 / 7, 0.0, 3.0, "target", 2.0)
    frame = lever_weeks(pair.engine, "meetings", Scope.teams("T"), d("2025-03-16"), 2, initiative)
    assert [(r.period, r.rep, r.value, r.target, r.own_baseline, r.score)
            for r in frame.itertuples()] == [
        (d("2025-03-03"), "Rep A", 2.0, 3.0, 2.0, pytest.approx(2 / 3)),
        (d("2025-03-03"), "Rep B", 1.0, 1.5, 1.0, pytest.approx(2 / 3)),
        (d("2025-03-10"), "Rep A", 2.0, 3.0, 2.0, pytest.approx(2 / 3)),
        (d("2025-03-10"), "Rep B", 1.0, 1.5, 1.0, pytest.approx(2 / 3))]
    trend = rep_trend(pair.engine, Scope.reps("B"), "meetings", "week",
                      Window(d("2025-03-03"), d("2025-03-16")), initiative)
    assert trend["target"].tolist() == [1.5, 1.5]
