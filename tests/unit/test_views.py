"""Role views on a two-rep team whose answers are worked out by hand.

Team T: rep A has 2 meetings a week and rep B 1 a week in the two baseline weeks (17 Feb - 2 Mar
2025); after the rollout on Monday 3 March A has 3 a week and B 1 a week; 'today' is Wednesday
19 March (A 1 meeting, B none). The initiative targets meetings +50%: the team baseline is
(4 + 2) / (2 reps x 2 weeks) = 1.5 per rep-week, so the target is 2.25 per rep-week.
"""

from __future__ import annotations

import math

import pytest

from kpi.engine import Scope
from kpi.initiatives import create_initiative, get_initiative
from kpi.people import narrow
from kpi.periods import (
    Window,
    period_last_day,
    period_start,
    period_to_date,
    quarter_ends,
    shift_years,
)
from kpi.views import cards, lever_weeks, off_track, own_baselines, pace, segments, streaks
from tests.conftest import Tiny, d

TODAY = d("2025-03-19")


@pytest.fixture
def team(tiny: Tiny, small_groups: None) -> Tiny:
    tiny.team("T")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("B", "T", hired="2025-01-01")
    for day in ("2025-02-18", "2025-02-25"):
        tiny.activity("A", day, n=2)
        tiny.activity("B", day, n=1)
    for day in ("2025-03-04", "2025-03-11"):
        tiny.activity("A", day, n=3)
        tiny.activity("B", day, n=1)
    tiny.activity("A", "2025-03-18", n=1)
    tiny.account("acc", "Retail")
    tiny.deal("A", "2025-02-01", "2025-02-20", won=True, amount=1400, account="acc")
    tiny.deal("A", "2025-02-10", "2025-03-05", won=True, amount=700, account="acc")
    tiny.deal("B", "2025-02-10", "2025-03-06", won=False, amount=500, account="acc")
    create_initiative(tiny.store, name="Meet more", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-03"), baseline_weeks=2, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"meetings": 0.5})
    return tiny


def test_periods() -> None:
    assert period_start(d("2025-03-19"), "week") == d("2025-03-17")
    assert period_start(d("2025-03-19"), "quarter") == d("2025-01-01")
    assert period_last_day(d("2025-01-01"), "quarter") == d("2025-03-31")
    assert period_last_day(d("2024-12-01"), "month") == d("2024-12-31")
    assert period_to_date(d("2025-03-19"), "month") == Window(d("2025-03-01"), d("2025-03-19"))
    assert shift_years(d("2024-02-29"), -1) == d("2023-02-28")


def test_cards_compare_like_with_like(team: Tiny) -> None:
    initiative = get_initiative(team.store, "meet-more")
    meetings, revenue, win_rate = cards(team.engine, ["meetings", "revenue", "win_rate"], "month",
                                        TODAY, Scope.everyone(), initiative)
    assert meetings.window == Window(d("2025-03-01"), TODAY)
    assert meetings.value == pytest.approx(9 / (2 * 19 / 7))  # 9 meetings, 2 reps x 19 days
    # the baseline's same weekdays: its two Tuesdays held 3 meetings each for 2 reps, and
    # 1-19 March holds three Tuesdays: 9 meetings over 19 days x 2 reps is exactly the baseline
    # (a 19-day window at the baseline's average day would have expected 9 x 19 / 21 of them)
    assert meetings.baseline == pytest.approx(9 / (2 * 19 / 7))
    assert meetings.vs_baseline == pytest.approx(0.0, abs=1e-12)
    assert meetings.target_change == 0.5
    assert meetings.last_year is None and meetings.vs_last_year is None
    assert meetings.partial and meetings.period_days == 31
    assert revenue.value == 700
    assert revenue.per_week
    # 1400 won on the baseline's Thursday 20 Feb: 700 per baseline Thursday; 1-19 March has
    # two Thursdays, so the baseline says 1400 for these days, and 700 is half of it
    assert revenue.baseline == pytest.approx(1400)
    assert revenue.vs_baseline == pytest.approx(-0.5)
    assert win_rate.value == pytest.approx(0.5)  # one won, one lost in March


def test_lever_weeks_against_target_and_own_baseline(team: Tiny) -> None:
    initiative = get_initiative(team.store, "meet-more")
    frame = lever_weeks(team.engine, "meetings", Scope.teams("T"), d("2025-03-16"), 2, initiative)
    rows = {(r.rep, str(r.period)): r for r in frame.itertuples()}
    a, b = rows[("Rep A", "2025-03-10")], rows[("Rep B", "2025-03-10")]
    assert (a.value, a.target, a.own_baseline) == pytest.approx((3, 2.25, 2))
    assert a.score == pytest.approx(3 / 2.25)
    assert (b.value, b.own_baseline, b.score) == pytest.approx((1, 1, 1 / 2.25))
    own = lever_weeks(team.engine, "meetings", Scope.teams("T"), d("2025-03-16"), 2, initiative,
                      against="own")
    assert own.loc[own["rep"] == "Rep A", "score"].tolist() == pytest.approx([1.5, 1.5])


def test_off_track_needs_two_weeks_below(team: Tiny) -> None:
    initiative = get_initiative(team.store, "meet-more")
    table = off_track(team.engine, ["meetings"], Scope.teams("T"), TODAY, initiative)
    assert table["rep"].tolist() == ["Rep B"]  # A beats target; B is at 1 < 2.25 for 2 weeks
    assert table["weeks_below"].tolist() == [2]  # the baseline week before was on own baseline
    assert table["shortfall"].iloc[0] == pytest.approx(1 - 1 / 2.25)


def test_pace_to_the_period_goal(team: Tiny) -> None:
    initiative = get_initiative(team.store, "meet-more")
    week, month, _ = pace(team.engine, Scope.reps("A"), ["meetings"], TODAY, initiative)
    assert (week.actual, week.active_weeks) == pytest.approx((1, 3 / 7))
    assert week.expected_by_now == pytest.approx(2.25 * 3 / 7)  # 0.96: one meeting is on pace
    assert week.more_to_stay_on_pace == 0
    assert (week.goal, week.more_for_period) == pytest.approx((2.25, 2))
    assert month.actual == 7
    assert month.goal == pytest.approx(2.25 * 31 / 7)
    assert month.more_for_period == math.ceil(2.25 * 31 / 7 - 7)
    assert week.goal_kind == "target"


def test_streaks(team: Tiny) -> None:
    initiative = get_initiative(team.store, "meet-more")
    (b,) = streaks(team.engine, Scope.reps("B"), ["meetings"], TODAY, initiative)
    assert (b.weeks, b.at_or_above, b.goal_kind) == (2, False, "target")
    (a,) = streaks(team.engine, Scope.reps("A"), ["meetings"], TODAY, initiative)
    assert (a.weeks, a.at_or_above) == (4, True)  # 2 baseline weeks on own baseline + 2 above


def test_own_baselines_and_segments(team: Tiny) -> None:
    window = Window(d("2025-02-17"), d("2025-03-02"))
    assert own_baselines(team.engine, "meetings", ["A", "B"], window) == {"Rep A": 2.0, "Rep B": 1.0}
    table = segments(team.engine, "industry", Window(d("2025-02-01"), TODAY), Scope.everyone(), TODAY)
    retail = table.iloc[0]
    assert retail["industry"] == "Retail"
    assert (retail["win_rate"], retail["closed_deals"], retail["revenue"]) == (2 / 3, 3, 2100)


def test_narrowing_never_widens(team: Tiny) -> None:
    team.team("U")
    team.rep("C", "U")
    assert narrow(team.store, Scope.teams("T"), rep_id="A") == Scope.rep_in_teams("A", "T")
    with pytest.raises(Exception, match="outside"):
        narrow(team.store, Scope.teams("T"), rep_id="C")
    with pytest.raises(Exception, match="outside"):
        narrow(team.store, Scope.teams("T"), team_id="U")
    with pytest.raises(Exception, match="outside"):
        narrow(team.store, Scope.reps("A"), rep_id="B")


def test_a_reps_trend_carries_the_team_average_only_as_an_aggregate(team: Tiny) -> None:
    from kpi.views import rep_trend

    initiative = get_initiative(team.store, "meet-more")
    frame = rep_trend(team.engine, Scope.reps("A"), "meetings", "week",
                      Window(d("2025-03-03"), d("2025-03-16")), initiative)
    assert frame["value"].tolist() == [3, 3]
    assert frame["team_average"].tolist() == pytest.approx([2, 2])  # (3 + 1) / 2 rep-weeks
    assert frame["target"].tolist() == pytest.approx([2.25, 2.25])
    assert "rep" not in frame.columns and "Rep B" not in frame.to_csv()


def test_quarter_ends_on_or_before_a_day() -> None:
    assert quarter_ends(d("2026-09-30"), 3) == [d("2026-09-30"), d("2026-06-30"), d("2026-03-31")]
    assert quarter_ends(d("2026-11-23"), 2) == [d("2026-09-30"), d("2026-06-30")]
    assert quarter_ends(d("2026-01-01"), 1) == [d("2025-12-31")]
