"""Streaks, off-track shortfalls and own baselines of a steady team, by hand.

Team T: A, B and C, hired 1 January 2024, each hold 2 meetings every Tuesday from 2 January 2024
to 11 March 2025, except that in the week of 10 March B holds none and C's two are on Sunday 16
March instead. D, hired Saturday 1 February 2025, gives 1 demo every Tuesday from 4 February.
'Today' is Wednesday 19 March 2025: the last complete week ended Sunday 16 March.

Without an initiative a rep's goal is their own baseline, the 13 weeks before the last 13: 2
meetings a week for A, B and C. "Meet more" (T, baseline 24 February - 9 March, rollout Monday
10 March) raises meetings by 50%: T's baseline is 12 meetings over 4 reps x 2 weeks, 1.5, so
the target is 2.25 from the week of 10 March.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.initiatives import create_initiative, get_initiative
from kpi.periods import Window
from kpi.views import Streak, off_track, own_baselines, streaks
from tests.conftest import Tiny, d

TODAY = d("2025-03-19")
MEETINGS = ("meetings", "Meetings")


def activities(tiny: Tiny, rows: list[tuple[str, dt.date, str]]) -> None:
    frame = pd.DataFrame([{"activity_id": f"A{k}", "rep_id": rep, "account_id": None,
                           "opp_id": None, "occurred_at": pd.Timestamp(day) + pd.Timedelta(hours=10),
                           "type": kind, "new_prospect": False}
                          for k, (rep, day, kind) in enumerate(rows)])
    with tiny.store.transaction():
        tiny.store.insert_frame("activities", frame)


@pytest.fixture(scope="module")
def steady() -> Tiny:
    tiny = Tiny()
    tiny.team("T")
    for rep in "ABC":
        tiny.rep(rep, "T", hired="2024-01-01")
    tiny.rep("D", "T", hired="2025-02-01")
    rows = []
    tuesday = d("2024-01-02")
    while tuesday <= d("2025-03-11"):
        last = tuesday == d("2025-03-11")
        rows += [("A", tuesday, "meeting")] * 2
        if not last:
            rows += [("B", tuesday, "meeting")] * 2
        rows += [("C", d("2025-03-16") if last else tuesday, "meeting")] * 2
        if tuesday >= d("2025-02-04"):
            rows.append(("D", tuesday, "demo"))
        tuesday += dt.timedelta(weeks=1)
    activities(tiny, rows)
    create_initiative(tiny.store, name="Meet more", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-10"), baseline_weeks=2, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-10")}, targets={"meetings": 0.5})
    yield tiny
    tiny.store.close()


def test_a_streak_counts_the_last_26_weeks_at_most(steady: Tiny) -> None:
    """A was at their own 2 a week in each of the 26 weeks looked at (and long before); D's
    demos are no lever for A, who gives none."""
    assert streaks(steady.engine, Scope.reps("A"), ["demos", "meetings"], TODAY) == [
        Streak(*MEETINGS, 26, True, "own baseline")]


def test_a_streak_ends_in_the_last_complete_week(steady: Tiny) -> None:
    """B's week of 10 March fell below after 25 weeks at the goal; C's two meetings of that
    week were on its Sunday, which the week includes."""
    assert streaks(steady.engine, Scope.reps("B"), ["meetings"], TODAY) == [
        Streak(*MEETINGS, 1, False, "own baseline")]
    assert streaks(steady.engine, Scope.reps("C"), ["meetings"], TODAY) == [
        Streak(*MEETINGS, 26, True, "own baseline")]


def test_a_streak_under_an_initiative_meets_the_target_from_the_rollout(steady: Tiny) -> None:
    """A's 2 in the week of 10 March are below its 2.25 target; the weeks before it met A's own
    baseline (2 a week over 24 February - 9 March)."""
    initiative = get_initiative(steady.store, "meet-more")
    assert streaks(steady.engine, Scope.reps("A"), ["meetings"], TODAY, initiative) == [
        Streak(*MEETINGS, 1, False, "target")]


def test_a_lever_without_a_target_is_against_the_own_baseline_of_the_initiative(
        steady: Tiny) -> None:
    """D's baseline is the initiative's 2 weeks, in which D gave 1 demo a week (D was hired
    after the 13 weeks that count without an initiative). D's first week (Saturday and Sunday,
    no demo) was below; the 6 weeks since held 1 demo each."""
    initiative = get_initiative(steady.store, "meet-more")
    assert streaks(steady.engine, Scope.reps("D"), ["demos"], TODAY, initiative) == [
        Streak("demos", "Demos", 6, True, "own baseline")]


# --- how far below: a goal under 1 a week -----------------------------------------------------

def test_the_shortfall_of_a_goal_below_one_a_week(tiny: Tiny) -> None:
    """E, alone in team S, held 1 meeting every other Tuesday in the 13 baseline weeks (9
    September - 8 December 2024: 7 meetings, 7/13 a week) and none since: 8 weeks below, all of
    the goal short."""
    tiny.team("S")
    tiny.rep("E", "S", hired="2024-01-01")
    activities(tiny, [("E", d("2024-09-10") + dt.timedelta(weeks=2 * k), "meeting")
                      for k in range(7)])
    table = off_track(tiny.engine, ["meetings"], Scope.teams("S"), TODAY)
    assert [tuple(r) for r in table.itertuples(index=False)] == [
        ("Rep E", "Meetings", 8, 0.0, None,
         pytest.approx(7 / 13), 1.0)]


# --- own baselines of several reps -------------------------------------------------------------

def test_own_baselines_within_a_team_and_around_a_new_rep(tiny: Tiny) -> None:
    """Baseline 17 February - 2 March 2025 under the real minimum groups. M was in team T until
    Sunday 23 February (3 meetings) and in U from the 24th (1 meeting): within T, M's own
    baseline is the 3 of that one week. A0 was hired on 26 February into T, whose three reps are
    too few to stand in for A0: A0 has none, and B, named after A0, still has theirs."""
    tiny.team("T")
    tiny.team("U")
    tiny.rep("M", "T", hired="2025-01-01")
    tiny.move("M", "U", "2025-02-24")
    tiny.rep("A0", "T", hired="2025-02-26")
    tiny.rep("B", "T", hired="2025-01-01")
    activities(tiny, [("M", d("2025-02-18"), "meeting")] * 3 + [("M", d("2025-02-25"), "meeting"),
                                                               ("B", d("2025-02-18"), "meeting")])
    window = Window(d("2025-02-17"), d("2025-03-02"))
    assert own_baselines(tiny.engine, "meetings", ["M"], window, within=("T",)) == {"Rep M": 3.0}
    assert own_baselines(tiny.engine, "meetings", ["M"], window) == {"Rep M": 2.0}
    assert own_baselines(tiny.engine, "meetings", ["A0", "B"], window, d("2025-03-19")) == {
        "Rep B": 0.5}
