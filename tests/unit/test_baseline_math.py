"""The small pieces of kpi.baseline, each worked out by hand: rates per week, relative change,
targets, pacing, the baseline band for a period of any length, and the weekly statistics it is
drawn from."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from kpi.baseline import (
    BaselineStats,
    attainment,
    baseline_for_days,
    baseline_stats,
    current_window,
    rate,
    relative_change,
    report,
    share_of_path,
    target_value,
)
from kpi.engine import Scope
from kpi.initiatives import add_review, create_initiative, get_initiative
from kpi.periods import Window
from tests.conftest import Tiny, d


def test_rate_per_week() -> None:
    assert rate(14.0, 14, True) == 7.0     # 14 in two weeks: 7 a week
    assert rate(3.0, 3, True) == 7.0       # 3 in three days: 7 a week
    assert rate(14.0, 14, False) == 14.0   # a ratio is no rate
    assert rate(None, 14, True) is None
    assert rate(5.0, 0, True) == 5.0       # no days: left as it is, never divided by 0
    assert rate(5.0, -1, True) == 5.0


def test_relative_change() -> None:
    assert relative_change(2.0, 3.0) == 0.5
    assert relative_change(4.0, 3.0) == -0.25
    assert relative_change(0.0, 3.0) is None  # from nothing: no percentage
    assert relative_change(None, 3.0) is None
    assert relative_change(2.0, None) is None


def test_target_and_attainment() -> None:
    assert target_value(2.0, 0.25) == 2.5
    assert target_value(None, 0.25) is None
    assert target_value(2.0, None) is None
    assert attainment(2.0, 3.0, 2.5) == 2.0
    assert attainment(None, 3.0, 2.5) is None
    assert attainment(2.0, None, 2.5) is None
    assert attainment(2.0, 3.0, None) is None


def test_share_of_path_on_a_path_of_no_length() -> None:
    assert share_of_path(d("2025-01-11"), d("2025-01-11"), d("2025-01-01")) == 1.0
    assert share_of_path(d("2025-01-11"), d("2025-01-01"), d("2025-01-05")) == 1.0
    assert share_of_path(d("2025-01-01"), d("2025-01-05"), d("2025-01-02")) == 0.25


def test_the_band_of_a_count_grows_with_the_period() -> None:
    stats = BaselineStats(level=8.0, weekly_mean=2.0, weekly_sd=0.5, additive=True)
    centre, low, high = stats.for_days(14)  # two weeks: 4 expected, sd 0.5 x sqrt(2)
    assert (centre, low, high) == pytest.approx((4.0, 4.0 - 0.5 * math.sqrt(2),
                                                 4.0 + 0.5 * math.sqrt(2)))
    assert stats.for_days(7) == pytest.approx((2.0, 1.5, 2.5))
    assert stats.for_days(0) == pytest.approx(stats.for_days(1))  # at least a day
    assert stats.for_days(1) == pytest.approx((2 / 7, 2 / 7 - 0.5 / math.sqrt(7),
                                               2 / 7 + 0.5 / math.sqrt(7)))
    flat = BaselineStats(level=8.0, weekly_mean=2.0, weekly_sd=None, additive=True)
    assert flat.for_days(21) == pytest.approx((6.0, 6.0, 6.0))  # one week only: no spread
    assert BaselineStats(8.0, None, None, True).for_days(7) == (None, None, None)


def test_the_band_of_a_ratio_narrows_with_the_period() -> None:
    stats = BaselineStats(level=0.5, weekly_mean=0.45, weekly_sd=0.2, additive=False)
    assert stats.for_days(28) == pytest.approx((0.5, 0.4, 0.6))  # sd 0.2 / sqrt(4 weeks)
    assert stats.for_days(7) == pytest.approx((0.5, 0.3, 0.7))
    assert BaselineStats(0.5, 0.45, None, False).for_days(28) == pytest.approx((0.5, 0.5, 0.5))
    assert BaselineStats(None, 0.45, 0.2, False).for_days(7) == (None, None, None)


@pytest.fixture
def uneven(tiny: Tiny) -> Tiny:
    """One rep who won 100, 300, 200 and 200 in the four baseline weeks (deals closed on the
    Mondays from 3 Feb 2025), rollout Monday 3 March 2025."""
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    for week, amount in enumerate((100, 300, 200, 200)):
        tiny.deal("r", "2025-01-02", str(d("2025-02-03") + dt.timedelta(weeks=week)), won=True,
                  amount=amount)
    tiny.deal("r", "2025-01-02", "2025-03-04", won=True, amount=900)  # after the rollout
    create_initiative(tiny.store, name="Busy", strategy="s", tactics="t",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"revenue": 0.5})
    return tiny


def test_baseline_stats_of_a_sum(uneven: Tiny) -> None:
    initiative = get_initiative(uneven.store, "busy")
    stats = baseline_stats(uneven.engine, initiative, "revenue", Scope.reps("r"))
    assert stats.additive is True
    assert stats.level == 800.0            # 100 + 300 + 200 + 200 over the whole window
    assert stats.weekly_mean == 200.0
    assert stats.weekly_sd == pytest.approx(100 * math.sqrt(2 / 3))  # (1 + 1 + 0 + 0) / (4 - 1)


def test_baseline_stats_of_a_ratio_with_a_single_week(tiny: Tiny) -> None:
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.deal("r", "2025-02-01", "2025-02-25", won=True, amount=100)
    tiny.deal("r", "2025-02-01", "2025-02-26", won=False, amount=100)
    create_initiative(tiny.store, name="Win", strategy="s", tactics="t",
                      rollout_date=d("2025-03-03"), baseline_weeks=1, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"win_rate": 0.1})
    stats = baseline_stats(tiny.engine, get_initiative(tiny.store, "win"), "win_rate",
                           Scope.everyone())
    assert (stats.level, stats.weekly_mean, stats.weekly_sd, stats.additive) == (0.5, 0.5, None,
                                                                                 False)


def test_the_current_window_is_as_long_as_the_baseline(uneven: Tiny) -> None:
    initiative = get_initiative(uneven.store, "busy")  # rollout Mon 3 Mar, 4 baseline weeks
    assert current_window(initiative, d("2025-03-08")) is None  # Saturday: no complete week yet
    assert current_window(initiative, d("2025-03-09")) == Window(d("2025-03-03"), d("2025-03-09"))
    assert current_window(initiative, d("2025-04-02")) == Window(d("2025-03-03"), d("2025-03-30"))
    # later on, the latest four complete weeks
    assert current_window(initiative, d("2025-04-13")) == Window(d("2025-03-17"), d("2025-04-13"))


def test_the_report_of_an_initiative(tiny: Tiny) -> None:
    """One rep: 2 meetings a week in the 4 baseline weeks (Mondays from 3 Feb 2025), 3 a week in
    the 4 weeks after the rollout on Monday 3 March; target +25% by 28 April."""
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    for week in range(8):
        tiny.activity("r", str(d("2025-02-03") + dt.timedelta(weeks=week)), n=2 if week < 4 else 3)
    create_initiative(tiny.store, name="More meetings", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-04-28"),
                      teams={"T": d("2025-03-03")}, targets={"meetings": 0.25})
    initiative = get_initiative(tiny.store, "more-meetings")
    add_review(tiny.store, initiative.initiative_id, d("2025-03-17"), "Meetings up.", author="Max")
    initiative = get_initiative(tiny.store, "more-meetings")
    card = report(tiny.engine, initiative, d("2025-03-30"))
    assert {k: v for k, v in card.items() if k != "metrics"} == {
        "initiative": "More meetings", "strategy": "win more", "tactics": "meet more",
        "rollout_date": "2025-03-03", "baseline": ["2025-02-03", "2025-03-02"],
        "target_date": "2025-04-28", "as_of": "2025-03-30",
        "teams": [{"team_id": "T", "adopted_on": "2025-03-03"}],
        "target_history": [{"metric_id": "meetings", "change_pct": 0.25,
                            "effective_from": "2025-03-03", "note": "launch target"}],
        "reviews": [{"date": "2025-03-17", "learned": "Meetings up.", "author": "Max"}]}
    (meetings,) = card["metrics"]
    expected = 2 * (1 + 0.25 * 27 / 56)  # 27 of the 56 days from rollout to target date
    assert meetings.pop("expected_value") == pytest.approx(expected)
    assert meetings == {
        "metric_id": "meetings", "baseline": 2.0, "current": 3.0, "since_rollout": 3.0,
        "change_pct": 0.5, "target_change_pct": 0.25, "target_value": 2.5, "attainment": 2.0,
        "on_pace": True, "window": {"start": d("2025-03-03"), "end": d("2025-03-30")},
        "baseline_window": {"start": d("2025-02-03"), "end": d("2025-03-02")},
        "per_week": False, "note": None}


@pytest.fixture
def closes(tiny: Tiny) -> Tiny:
    """Team T, reps A and B. In the two baseline weeks (3-16 Feb 2025): A wins 100 on Monday
    3 Feb (created 24 Jan: 10 days) and loses 50 on Monday 10 Feb; B wins 1000 on Tuesday 4 Feb
    (created 15 Jan: 20 days)."""
    tiny.team("T", "Alpha")
    tiny.rep("A", "T", hired="2024-01-01")
    tiny.rep("B", "T", hired="2024-01-01")
    tiny.deal("A", "2025-01-24", "2025-02-03", won=True, amount=100)
    tiny.deal("A", "2025-02-01", "2025-02-10", won=False, amount=50)
    tiny.deal("B", "2025-01-15", "2025-02-04", won=True, amount=1000)
    return tiny


def test_baseline_for_the_same_weekdays(closes: Tiny) -> None:
    engine, base = closes.engine, Window(d("2025-02-03"), d("2025-02-16"))
    a, everyone = Scope.reps("A"), Scope.everyone()
    monday, mon_tue = Window(d("2025-03-03"), d("2025-03-03")), Window(d("2025-03-03"),
                                                                        d("2025-03-04"))
    mon_wed, tuesday = Window(d("2025-03-03"), d("2025-03-05")), Window(d("2025-03-04"),
                                                                         d("2025-03-04"))
    # revenue: A's Mondays averaged 50 (100 and 0), Tuesdays 0; everyone's Tuesdays 500
    assert baseline_for_days(engine, "revenue", base, a, mon_wed) == 50.0
    assert baseline_for_days(engine, "revenue", base, everyone, mon_wed) == 550.0
    # win rate: Mondays won 1 of 2 closed (0.5 and 1 a Monday); Tuesdays 1 of 1 (0.5 and 0.5)
    assert baseline_for_days(engine, "win_rate", base, a, monday) == 0.5
    assert baseline_for_days(engine, "win_rate", base, everyone, mon_tue) == pytest.approx(2 / 3)
    assert baseline_for_days(engine, "win_rate", base, a, tuesday) is None  # A closed none
    # a median is the baseline's level, whatever the days: 10 days for A, of 10 and 20 for all
    assert baseline_for_days(engine, "sales_cycle_days", base, a, monday) == 10.0
    assert baseline_for_days(engine, "sales_cycle_days", base, everyone, tuesday) == 15.0
