"""Which levers to push, by hand: one rep's last four complete weeks against the goal of each lever
(the initiative's target where it has one, else the rep's own baseline), beside the evidence that
the lever leads the output; levers that lead and are below their goal come first.

Sunday 29 June 2025 is 'today': this week began Monday 23 June, so the last four complete weeks
are Monday 26 May - Sunday 22 June 2025.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.initiatives import Initiative, create_initiative
from kpi.views import levers_to_push, pace
from tests.conftest import Tiny, d

TODAY = d("2025-06-29")
RECENT_MONDAYS = ("2025-05-26", "2025-06-02", "2025-06-09", "2025-06-16")
WEEKS = "26 May–22 Jun 2025"
COLUMNS = ["lever", "output", "verdict", "recent", "goal", "goal_kind", "vs_goal", "push", "weeks"]


def lead(lever: str, leads: bool, output: str = "win_rate") -> dict:
    return {"lever": lever, "output": output, "leads": leads,
            "verdict": "leads by ~2 weeks" if leads else "no evidence it leads"}


def rows(table: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in table[COLUMNS].itertuples(index=False)]


def test_without_an_initiative_the_goal_is_the_reps_own_baseline(tiny: Tiny) -> None:
    """No initiative: the baseline is the 13 weeks before the last 13, Monday 23 December 2024 -
    Sunday 23 March 2025 (this week began 23 June; 13 weeks before that is 24 March).

    Per week, baseline -> last four weeks:
      demos                   2 -> 1    -0.5   leads      push
      proposals_sent          4 -> 3    -0.25  leads      push
      meetings                2 -> 4    +1.0   leads      (new-prospect meetings are meetings too)
      opps_created            0 -> 0    none   leads      (no baseline to compare with: not pushed)
      new_prospect_meetings   2 -> 1    -0.5   does not lead
      calls                   1 -> 2    +1.0   does not lead
    Push first (worst first), then the levers that lead, then the others, each by vs_goal.
    """
    tiny.team("T1")
    tiny.rep("R1", "T1")
    for monday in pd.date_range("2024-12-23", "2025-03-17", freq="7D"):  # 13 Mondays
        day = str(monday.date())
        tiny.activity("R1", day, type="demo", n=2)
        tiny.activity("R1", day, type="proposal", n=4)
        tiny.activity("R1", day, type="meeting", new_prospect=True, n=2)
        tiny.activity("R1", day, type="call")
    for day in RECENT_MONDAYS:
        tiny.activity("R1", day, type="demo")
        tiny.activity("R1", day, type="proposal", n=3)
        tiny.activity("R1", day, type="meeting", new_prospect=True)
        tiny.activity("R1", day, type="meeting", n=3)
        tiny.activity("R1", day, type="call", n=2)
    # just outside both windows: the Sunday before each and the Monday after the recent one
    for day in ("2024-12-22", "2025-03-24", "2025-05-25", "2025-06-23"):
        tiny.activity("R1", day, type="demo", n=50)
    leads = pd.DataFrame([lead("calls", False), lead("demos", True), lead("demos", False, "revenue"),
                          lead("new_prospect_meetings", False), lead("meetings", True),
                          lead("opps_created", True), lead("proposals_sent", True)])
    table = levers_to_push(tiny.engine, Scope.reps("R1"), TODAY, None, leads)
    own, yes, no = "own baseline", "leads by ~2 weeks", "no evidence it leads"
    assert rows(table) == [
        ("demos", "win_rate", yes, 1.0, 2.0, own, -0.5, True, WEEKS),
        ("proposals_sent", "win_rate", yes, 3.0, 4.0, own, -0.25, True, WEEKS),
        ("meetings", "win_rate", yes, 4.0, 2.0, own, 1.0, False, WEEKS),
        ("opps_created", "win_rate", yes, 0.0, 0.0, own, pytest.approx(float("nan"), nan_ok=True),
         False, WEEKS),
        ("new_prospect_meetings", "win_rate", no, 1.0, 2.0, own, -0.5, False, WEEKS),
        ("calls", "win_rate", no, 2.0, 1.0, own, 1.0, False, WEEKS),
    ]
    assert table["leads"].tolist() == [True, True, True, True, False, False]
    assert table.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert list(table.columns) == ["lever", "output", "leads", "verdict", "recent", "goal",
                                   "goal_kind", "vs_goal", "vs_goal_points", "push", "weeks"]
    # the table shows the signed percent its chart shows: -50.0 reads "-50.0%", 100.0 "+100.0%"
    assert table["vs_goal_points"].tolist()[-2:] == [-50.0, 100.0]


def test_another_output_reads_its_own_rows(tiny: Tiny) -> None:
    """The same levers against revenue: only the revenue rows, and demos does not lead it."""
    tiny.team("T1")
    tiny.rep("R1", "T1")
    for monday in pd.date_range("2024-12-23", "2025-03-17", freq="7D"):
        tiny.activity("R1", str(monday.date()), type="demo", n=2)
    for day in RECENT_MONDAYS:
        tiny.activity("R1", day, type="demo")
    leads = pd.DataFrame([lead("demos", True), lead("demos", False, "revenue")])
    table = levers_to_push(tiny.engine, Scope.reps("R1"), TODAY, None, leads, output="revenue")
    assert rows(table) == [("demos", "revenue", "no evidence it leads", 1.0, 2.0, "own baseline",
                            -0.5, False, WEEKS)]


def demo_more(tiny: Tiny) -> Initiative:
    """Team T (R1, R2, hired 1 January 2025) and "Demo more": rollout Monday 26 May 2025, two
    baseline weeks (12 - 25 May), demos +50%. R1: a demo on 22 April (before the baseline); in
    each baseline week 1 demo and 2 calls (R2: 3 demos); in each of the last four weeks 2 demos
    and 1 call (R2: 9 demos)."""
    tiny.team("T")
    tiny.rep("R1", "T", hired="2025-01-01")
    tiny.rep("R2", "T", hired="2025-01-01")
    tiny.activity("R1", "2025-04-22", type="demo")
    for day in ("2025-05-12", "2025-05-19"):
        tiny.activity("R1", day, type="demo")
        tiny.activity("R2", day, type="demo", n=3)
        tiny.activity("R1", day, type="call", n=2)
    for monday in RECENT_MONDAYS:
        tiny.activity("R1", monday, type="demo", n=2)
        tiny.activity("R1", monday, type="call")
        tiny.activity("R2", monday, type="demo", n=9)
    return create_initiative(tiny.store, name="Demo more", strategy="s", tactics="t",
                             rollout_date=d("2025-05-26"), baseline_weeks=2,
                             target_date=d("2025-09-30"), teams={"T": d("2025-05-26")},
                             targets={"demos": 0.5})


def test_a_target_is_the_goal_where_the_initiative_has_one(tiny: Tiny, small_groups: None) -> None:
    """Team T (R1, R2); the initiative rolls out on Monday 26 May 2025 with two baseline weeks
    (12 - 25 May) and targets demos +50%.

    Baseline demos: R1 1 a week, R2 3 a week: the standard is (2 + 6) / 4 rep-weeks = 2, so the
    target is 3 for everyone. R1's calls: 2 a week in the baseline, no target: the goal is R1's
    own 2 over the initiative's baseline weeks.
    R1 in the last four weeks: 2 demos a week (against 3: -1/3; against R1's own 1 it would be
    +100%) and 1 call a week (against 2: -0.5). Both lead, both are pushed, calls first.
    """
    initiative = demo_more(tiny)
    leads = pd.DataFrame([lead("demos", True), lead("calls", True)])
    table = levers_to_push(tiny.engine, Scope.reps("R1"), TODAY, initiative, leads)
    yes = "leads by ~2 weeks"
    assert rows(table) == [
        ("calls", "win_rate", yes, 1.0, 2.0, "own baseline", -0.5, True, WEEKS),
        ("demos", "win_rate", yes, 2.0, 3.0, "target", pytest.approx(-1 / 3), True, WEEKS),
    ]
    # the day before the rollout no target is in effect yet: each goal is R1's own baseline
    # (still the initiative's baseline weeks), and R1's demos are pushed because they
    # falls short: the last four weeks then are 21 April - 18 May, which hold the demo of
    # 22 April and the first baseline week: 2 demos and 2 calls in 4 rep-weeks, 0.5 a week
    # each, against R1's own 1 demo (-0.5) and 2 calls (-0.75) a week
    before = levers_to_push(tiny.engine, Scope.reps("R1"), d("2025-05-25"), initiative, leads)
    assert rows(before) == [
        ("calls", "win_rate", yes, 0.5, 2.0, "own baseline", -0.75, True, "21 Apr–18 May 2025"),
        ("demos", "win_rate", yes, 0.5, 1.0, "own baseline", -0.5, True, "21 Apr–18 May 2025"),
    ]


def test_without_one_standard_the_target_raises_the_reps_own_baseline(tiny: Tiny) -> None:
    """The same team of two (:func:`demo_more`), with the real minimum of reps for one standard
    (4): the target on demos raises R1's own baseline, 1 a week, by 50% to 1.5; R1's 2 a week
    are 1/3 above it, so demos are not pushed. Calls have no target: their goal is R1's own 2 a
    week (-0.5, pushed).
    """
    initiative = demo_more(tiny)
    leads = pd.DataFrame([lead("demos", True), lead("calls", True)])
    table = levers_to_push(tiny.engine, Scope.reps("R1"), TODAY, initiative, leads)
    yes = "leads by ~2 weeks"
    assert rows(table) == [
        ("calls", "win_rate", yes, 1.0, 2.0, "own baseline", -0.5, True, WEEKS),
        ("demos", "win_rate", yes, 2.0, 1.5, "target", pytest.approx(1 / 3), False, WEEKS),
    ]


def test_a_new_reps_goal_is_the_team_baseline_as_on_my_levers(tiny: Tiny, small_groups: None) -> None:
    """No initiative; the baseline is 23 December 2024 - 23 March 2025. N joined team U on
    Monday 17 March, one week before it ended (less than half the baseline), and moved to T on
    1 April: their goal is the baseline of the team they are in today, T, as My levers' pace
    has it. T's R1 held 2 demos a week and R2 4: 78 demos in 26 rep-weeks, 3 a week (U's U1 held
    6). N's 2 a week in the last four weeks are a third below it."""
    tiny.team("T")
    tiny.team("U")
    tiny.rep("R1", "T")
    tiny.rep("R2", "T")
    tiny.rep("U1", "U")
    tiny.rep("N", "U", hired="2025-03-17")
    tiny.move("N", "T", "2025-04-01")
    for monday in pd.date_range("2024-12-23", "2025-03-17", freq="7D"):  # 13 Mondays
        tiny.activity("R1", str(monday.date()), type="demo", n=2)
        tiny.activity("R2", str(monday.date()), type="demo", n=4)
        tiny.activity("U1", str(monday.date()), type="demo", n=6)
    for monday in RECENT_MONDAYS:
        tiny.activity("N", monday, type="demo", n=2)
    leads = pd.DataFrame([lead("demos", True)])
    table = levers_to_push(tiny.engine, Scope.reps("N"), TODAY, None, leads)
    assert rows(table) == [("demos", "win_rate", "leads by ~2 weeks", 2.0, 3.0, "team baseline",
                            pytest.approx(-1 / 3), True, WEEKS)]
    [week] = [p for p in pace(tiny.engine, Scope.reps("N"), ["demos"], TODAY) if p.grain == "week"]
    assert (week.goal_kind, week.goal_rate) == ("team baseline", 3.0)
