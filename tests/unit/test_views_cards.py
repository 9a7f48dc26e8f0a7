"""Headline cards without an initiative, a trend without one, and the team average beside one rep,
by hand.

Cards: rep R of team T won 600 on Tuesday 18 March 2025; 'today' is Wednesday 19 March. A year
earlier R won 300 on Tuesday 19 March 2024 and 1000 on Sunday 17 March 2024; team U's rep Q won
5000 on 18 March 2025 (outside T).
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import cards, team_average, trend
from tests.conftest import Tiny, d

TODAY = d("2025-03-19")
REVENUE = ("revenue", "Revenue", "currency", "up", "Amount of the deals won, dated by their close date.",
           "sum(amount) of won deals closed in the period")


@pytest.fixture
def sales(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.team("U")
    tiny.rep("R", "T", hired="2023-01-01")
    tiny.rep("Q", "U", hired="2023-01-01")
    tiny.deal("R", "2025-03-01", "2025-03-18", won=True, amount=600)
    tiny.deal("R", "2024-03-01", "2024-03-19", won=True, amount=300)
    tiny.deal("R", "2024-03-01", "2024-03-17", won=True, amount=1000)
    tiny.deal("Q", "2025-03-01", "2025-03-18", won=True, amount=5000)
    return tiny


def describe(card) -> tuple:  # noqa: ANN001 - kpi.views.Card
    return (card.metric_id, card.label, card.unit, card.direction, card.definition, card.formula)


def test_a_week_to_date_meets_the_same_weekdays_52_weeks_earlier(sales: Tiny) -> None:
    """Monday 17 - Wednesday 19 March 2025 against Monday 18 - Wednesday 20 March 2024: 600
    against 300 (the 1000 of Sunday 17 March 2024 fell in the week before): +100%."""
    (card,) = cards(sales.engine, ["revenue"], "week", TODAY, Scope.teams("T"))
    assert describe(card) == REVENUE
    assert (card.window, card.last_year_window) == (
        Window(d("2025-03-17"), TODAY), Window(d("2024-03-18"), d("2024-03-20")))
    assert (card.value, card.last_year, card.vs_last_year) == (600.0, 300.0, 1.0)
    assert (card.vs_baseline, card.baseline, card.target_change, card.note) == (None, None, None,
                                                                                 None)
    assert (card.per_week, card.period_days, card.partial, card.missing) == (True, 7, True,
                                                                              "no data")


def test_a_month_to_date_meets_the_same_dates_a_year_earlier(sales: Tiny) -> None:
    """1 - 19 March 2025 against 1 - 19 March 2024: 600 against 1300."""
    revenue, win_rate = cards(sales.engine, ["revenue", "win_rate"], "month", TODAY,
                              Scope.teams("T"))
    assert describe(revenue) == REVENUE
    assert revenue.last_year_window == Window(d("2024-03-01"), TODAY.replace(year=2024))
    assert (revenue.value, revenue.last_year) == (600.0, 1300.0)
    assert revenue.vs_last_year == pytest.approx(600 / 1300 - 1)
    assert (revenue.period_days, revenue.partial) == (31, True)
    assert (win_rate.metric_id, win_rate.value, win_rate.last_year, win_rate.vs_last_year,
            win_rate.per_week) == ("win_rate", 1.0, 1.0, 0.0, False)


def test_a_trend_without_an_initiative_is_the_metric_per_period(sales: Tiny) -> None:
    """Team T's revenue per week, 10 - 23 March 2024 and 2025 weeks: only what T won inside."""
    frame = trend(sales.engine, "revenue", "week", Window(d("2024-03-11"), d("2024-03-24")),
                  Scope.teams("T"))
    assert [(str(p), v) for p, v in zip(frame["period"], frame["value"], strict=True)] == [
        ("2024-03-11", 1000.0), ("2024-03-18", 300.0)]
    later = trend(sales.engine, "revenue", "week", Window(d("2025-03-17"), d("2025-03-23")),
                  Scope.teams("T"))
    assert later["value"].tolist() == [600.0]


@pytest.fixture
def five(tiny: Tiny) -> Tiny:
    """Team T: A from Monday 30 December 2024 (4 meetings a week), B and C from 6 January, D from
    13 January (1 a week each). A moves to team U on Monday 20 January."""
    tiny.team("T")
    tiny.team("U")
    tiny.rep("A", "T", hired="2024-12-30")
    for rep in ("B", "C"):
        tiny.rep(rep, "T", hired="2025-01-06")
    tiny.rep("D", "T", hired="2025-01-13")
    tiny.move("A", "U", "2025-01-20")
    rows = [("A", day, 4) for day in ("2024-12-30", "2025-01-06", "2025-01-13", "2025-01-20")]
    rows += [(rep, day, 1) for rep in ("B", "C") for day in ("2025-01-06", "2025-01-13", "2025-01-20")]
    rows += [("D", day, 1) for day in ("2025-01-13", "2025-01-20")]
    frame = pd.DataFrame([{"activity_id": f"M{rep}{day}{k}", "rep_id": rep, "account_id": None,
                           "opp_id": None, "occurred_at": pd.Timestamp(day) + pd.Timedelta(hours=9),
                           "type": "meeting", "new_prospect": False}
                          for rep, day, n in rows for k in range(n)])
    with tiny.store.transaction():
        tiny.store.insert_frame("activities", frame)
    return tiny


def test_the_team_average_needs_three_others_behind_it(five: Tiny) -> None:
    """Weeks of 30 Dec, 6 Jan, 13 Jan: A's team T had 0, 2, then 3 other reps active: only the
    third week is shown, (4 + 1 + 1 + 1) / 4 rep-weeks = 1.75."""
    weeks = Window(d("2024-12-30"), d("2025-01-19"))
    assert team_average(five.engine, Scope.reps("A"), "meetings", "week", weeks) == [None, None, 1.75]


def test_a_managers_view_keeps_the_managers_team(five: Tiny) -> None:
    """To 26 January A is in U (alone there: nothing shown); T's manager sees T beside A: the
    week of 20 January is B, C and D at 1 each, 1.0."""
    weeks = Window(d("2024-12-30"), d("2025-01-26"))
    assert team_average(five.engine, Scope.reps("A"), "meetings", "week", weeks) == [None] * 4
    assert team_average(five.engine, Scope.rep_in_teams("A", "T"), "meetings", "week",
                        weeks) == [None, None, 1.75, 1.0]
