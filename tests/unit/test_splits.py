"""A ratio split by a dimension over several periods: exactly one row per period and group, and
the groups' numerators and denominators add up to the unsplit total, by hand.

Alpha (rep a1, East) and Beta (rep b1, West). January: a1 wins 100 and loses 50, b1 wins 10.
February: a1 wins 20, b1 loses two. March: b1 wins 30, Alpha closes nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.engine import MetricRequest
from tests.conftest import Tiny, d

Q1 = {"date_from": d("2025-01-01"), "date_to": d("2025-03-31")}


@pytest.fixture
def two_teams(tiny: Tiny) -> Tiny:
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("a1", "TA")
    tiny.rep("b1", "TB", region="West")
    tiny.deal("a1", "2025-01-02", "2025-01-10", won=True, amount=100)
    tiny.deal("a1", "2025-01-02", "2025-01-11", won=False, amount=50)
    tiny.deal("b1", "2025-01-02", "2025-01-12", won=True, amount=10)
    tiny.deal("a1", "2025-01-02", "2025-02-10", won=True, amount=20)
    tiny.deal("b1", "2025-01-02", "2025-02-11", won=False, amount=5)
    tiny.deal("b1", "2025-01-02", "2025-02-12", won=False, amount=5)
    tiny.deal("b1", "2025-01-02", "2025-03-05", won=True, amount=30)
    return tiny


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if not isinstance(v, str) and pd.isna(v) else v for v in row)
            for row in frame.drop(columns=["is_partial"]).itertuples(index=False)]


def test_win_rate_by_team_and_month(two_teams: Tiny) -> None:
    frame = two_teams.engine.run(MetricRequest.make("win_rate", grain="month", by=["team"], **Q1))
    assert list(frame.columns) == ["period", "team", "value", "numerator", "denominator",
                                   "is_partial"]
    assert rows(frame) == [
        (d("2025-01-01"), "Alpha", 0.5, 1, 2), (d("2025-01-01"), "Beta", 1.0, 1, 1),
        (d("2025-02-01"), "Alpha", 1.0, 1, 1), (d("2025-02-01"), "Beta", 0.0, 0, 2),
        (d("2025-03-01"), "Alpha", None, 0, 0), (d("2025-03-01"), "Beta", 1.0, 1, 1),
    ]


def test_the_groups_add_up_to_the_total(two_teams: Tiny) -> None:
    engine = two_teams.engine
    total = engine.run(MetricRequest.make("win_rate", grain="month", **Q1))
    assert rows(total) == [(d("2025-01-01"), 2 / 3, 2, 3), (d("2025-02-01"), 1 / 3, 1, 3),
                           (d("2025-03-01"), 1.0, 1, 1)]
    for by in (["team"], ["region"], ["team", "region"], ["rep"]):
        split = engine.run(MetricRequest.make("win_rate", grain="month", by=by, **Q1))
        assert not split.duplicated(["period", *by]).any(), by
        sums = split.groupby("period")[["numerator", "denominator"]].sum()
        assert sums.values.tolist() == [[2, 3], [1, 3], [1, 1]], by


def test_win_rate_value_by_region_for_the_quarter(two_teams: Tiny) -> None:
    frame = two_teams.engine.run(MetricRequest.make("win_rate_value", grain="total",
                                                    by=["region"], **Q1))
    # East: won 100 + 20 of 170 closed; West: won 10 + 30 of 50 closed
    assert rows(frame) == [(d("2025-01-01"), "East", 120 / 170, 120.0, 170.0),
                           (d("2025-01-01"), "West", 40 / 50, 40.0, 50.0)]
