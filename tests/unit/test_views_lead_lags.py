"""Which levers lead, on a made-up company small enough for the fast tests.

Four teams of one rep each, hired on Monday 10 March 2025, 29 weeks of data (10 March - 28
September). Each week a team is either high (4 demos, 3 of its 4 closed deals won, 300 revenue)
or low (1 demo, 1 of 4 won, 100 revenue), in a pattern of its own: demos move with win rate and
revenue in the same week, and nothing else does. Nobody logs calls (a lever that never varies).

'Today' is Tuesday 30 September 2025: the last complete week ended Sunday 28 September, the last
review before today was the quarter end of 30 June 2025, whose year holds only 16 weeks of data
(10 March - 29 June): too little for a verdict (20 weeks are needed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from kpi.insights.lead_lag import lead_lag
from kpi.views import as_of, lead_lag_detail, lead_lag_review, lead_lags
from tests.conftest import Tiny, d

DAY = d("2025-09-30")
FIRST_MONDAY = d("2025-03-10")
PATTERNS = {"T1": "HLLHHLHLLLHHLHLHHLLHLHLLHHLHL",
            "T2": "LHHLLHLLHHLHLLHLHHLHHLLHLLHLH",
            "T3": "HHLLHLHHLLLHHLLHLHLLHHLHLHLLH",
            "T4": "LLHHLHLHHLHLLHHLLHHLLHHLHHLHL"}
SAME_WEEK = "moves with it in the same week (likely 0–2)"
HARDLY_VARIES = "too little data: the lever or the output hardly varies"
SHORT = "too little data: at least 3 teams and 20 weeks are needed"
NOTHING = "too little data: nothing recorded yet"


def company(weeks: int) -> Tiny:
    tiny = Tiny()
    activities, deals = [], []
    for team, pattern in PATTERNS.items():
        rep = tiny.rep(f"R{team}", tiny.team(team), hired=str(FIRST_MONDAY))
        for week, level in enumerate(pattern[:weeks]):
            monday = FIRST_MONDAY + dt.timedelta(weeks=week)
            demos, won = (4, 3) if level == "H" else (1, 1)
            activities += [{"activity_id": f"A{team}-{week}-{k}", "rep_id": rep, "account_id": None,
                            "opp_id": None, "occurred_at": pd.Timestamp(monday) + pd.Timedelta(hours=10),
                            "type": "demo", "new_prospect": False} for k in range(demos)]
            deals += [{"opp_id": f"O{team}-{week}-{k}", "rep_id": rep, "account_id": None,
                       "created_at": monday - dt.timedelta(days=20),
                       "closed_at": monday + dt.timedelta(days=2), "expected_close_at": None,
                       "stage": "Closed Won" if k < won else "Closed Lost", "is_closed": True,
                       "is_won": k < won, "amount": 100.0, "cost": None, "product": "Core",
                       "kind": "new"} for k in range(4)]
    with tiny.store.transaction():
        tiny.store.insert_frame("activities", pd.DataFrame(activities))
        tiny.store.insert_frame("opportunities", pd.DataFrame(deals))
    return tiny


@pytest.fixture(scope="module")
def linked() -> Iterator[Tiny]:
    tiny = company(29)
    yield tiny
    tiny.store.close()


@pytest.fixture  # each test computes it: a mutation run counts the view as run by each test
def table(linked: Tiny) -> pd.DataFrame:
    return lead_lags(linked.engine, ("demos", "calls"), ("win_rate", "revenue"), DAY)


def test_each_lever_against_each_output(table: pd.DataFrame) -> None:
    """Outputs first, then levers, in the order asked; demos lead both outputs in the same week,
    with p = 1/200: none of the 199 shuffled pairings of the teams fits as well as their own.
    No verdict a quarter ago (16 weeks), so nothing led then and nothing stopped."""
    assert list(table.columns) == [
        "lever", "output", "lever_label", "output_label", "leads", "lag", "lag_low", "lag_high",
        "strength", "low", "high", "p_value", "verdict", "detail", "led_before", "stopped",
        "previous"]
    assert [tuple(r) for r in table[["lever", "output", "lever_label", "output_label", "leads",
                                     "verdict", "led_before", "stopped", "previous"]]
            .itertuples(index=False)] == [
        ("demos", "win_rate", "Demos", "Win rate", True, SAME_WEEK, False, False, d("2025-06-30")),
        ("calls", "win_rate", "Calls", "Win rate", False, "too little data", False, False,
         d("2025-06-30")),
        ("demos", "revenue", "Demos", "Revenue", True, SAME_WEEK, False, False, d("2025-06-30")),
        ("calls", "revenue", "Calls", "Revenue", False, "too little data", False, False,
         d("2025-06-30"))]
    assert table["lag"].tolist()[::2] == [0, 0]
    assert table["p_value"].tolist()[::2] == [0.005, 0.005]
    assert table["detail"].tolist()[1::2] == [HARDLY_VARIES, HARDLY_VARIES]
    for column in ("lag", "lag_low", "lag_high", "strength", "low", "high", "p_value"):
        assert table[column].iloc[1::2].isna().all(), column  # no numbers without a verdict


@pytest.mark.parametrize("row", [0, 2])
def test_each_row_is_the_years_analysis_with_200_resamples(linked: Tiny, table: pd.DataFrame,
                                                           row: int) -> None:
    """The row of a pair says what the analysis of that pair alone says: its year to the last
    complete week, the bootstrap's 200 resamples for the interval and the range of lags."""
    got = table.iloc[row]
    single = lead_lag(linked.engine, got["lever"], got["output"], DAY, boot=200)
    assert (got["lag"], got["lag_low"], got["lag_high"], got["strength"], got["low"], got["high"],
            got["p_value"], got["detail"]) == (
        single.lag, single.lag_low, single.lag_high, single.strength, single.low, single.high,
        single.p_value, single.message)
    assert got["detail"].startswith(SAME_WEEK + ": correlation +")
    assert got["low"] < got["strength"] < got["high"]


def test_the_detail_is_the_same_run_as_the_table(linked: Tiny, table: pd.DataFrame) -> None:
    detail = lead_lag_detail(linked.engine, "demos", "win_rate", DAY)
    row = table.iloc[0]
    assert (detail.lever, detail.output, detail.as_of, detail.teams, detail.weeks) == (
        "demos", "win_rate", DAY, 4, 29)
    assert (detail.lag, detail.lag_low, detail.lag_high, detail.strength, detail.low, detail.high,
            detail.p_value, detail.message) == (
        row["lag"], row["lag_low"], row["lag_high"], row["strength"], row["low"], row["high"],
        row["p_value"], row["detail"])
    assert detail.curve["lag"].tolist() == list(range(13))


def test_the_review_at_the_last_four_quarter_ends(linked: Tiny) -> None:
    """31 Dec 2024: no rep was hired yet; 31 Mar 2025: 3 weeks; 30 Jun: 16; 30 Sep: 29 weeks."""
    review = lead_lag_review(linked.engine, "demos", "win_rate", DAY)
    assert review["as_of"].tolist() == [d("2024-12-31"), d("2025-03-31"), d("2025-06-30"), DAY]
    assert review["message"].tolist()[:3] == [NOTHING, SHORT, SHORT]
    assert review["message"].iloc[3].startswith("moves with it in the same week (likely 0–")
    assert review["leads"].tolist() == [False, False, False, True]
    assert review["stopped"].tolist() == [False, False, False, False]
    assert review["lag"].iloc[3] == 0 and review["p_value"].iloc[3] == 0.005


def test_a_company_younger_than_a_quarter() -> None:
    """Three weeks of data on Monday 31 March 2025: the last review, 31 December 2024, was before
    anyone was hired (its weeks hold no rep-weeks at all), and three weeks are too few now."""
    young = company(3)
    try:
        table = lead_lags(young.engine, ("demos",), ("win_rate",), d("2025-03-31"))
        assert [tuple(r) for r in table[["lever", "verdict", "detail", "leads", "led_before",
                                         "stopped", "previous"]].itertuples(index=False)] == [
            ("demos", "too little data", SHORT, False, False, False, d("2024-12-31"))]
    finally:
        young.store.close()


def test_an_output_with_no_week_in_the_year_is_too_little_data() -> None:
    """One deal, closed on the only day with data after the last complete week: win rate and
    revenue have no week at all in the year (an empty result), calls a week of zeros each."""
    tiny = Tiny()
    try:
        tiny.team("T1")
        tiny.rep("r1", "T1")
        tiny.deal("r1", "2024-02-01", "2024-03-01", won=True, amount=100)
        table = lead_lags(tiny.engine, ("calls",), ("win_rate", "revenue"), as_of(tiny.engine))
        assert [tuple(r) for r in table[["lever", "output", "verdict", "leads"]].itertuples(
            index=False)] == [("calls", "win_rate", "too little data", False),
                              ("calls", "revenue", "too little data", False)]
    finally:
        tiny.store.close()


def test_now_is_today_or_the_last_day_with_data(linked: Tiny) -> None:
    """The last deal closed on Wednesday 24 September 2025 (the week of 22 September)."""
    assert as_of(linked.engine, d("2025-06-01")) == d("2025-06-01")
    assert as_of(linked.engine, d("2025-09-24")) == d("2025-09-24")
    assert as_of(linked.engine, DAY) == d("2025-09-24")
    assert as_of(linked.engine) == d("2025-09-24")  # the data ended before the tests' today


def test_the_day_after_a_quarter_end_compares_with_that_quarter_end(linked: Tiny) -> None:
    """Wednesday 1 October 2025: the last review was yesterday, 30 September, whose year holds
    the same 29 weeks: demos led then and still lead, so nothing stopped."""
    table = lead_lags(linked.engine, ("demos",), ("win_rate",), d("2025-10-01"))
    assert [tuple(r) for r in table[["lever", "leads", "led_before", "stopped", "previous"]]
            .itertuples(index=False)] == [("demos", True, True, False, d("2025-09-30"))]
