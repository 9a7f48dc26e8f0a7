"""The forecast's range: simulated deal by deal, or drawn from the normal law when the deals are
so many that the Berry-Esseen bound puts it within NORMAL_ERROR of the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from kpi.insights import forecast
from kpi.insights.forecast import _normal_enough, _range


def test_two_deals_are_simulated_deal_by_deal() -> None:
    odds = np.array([[0.25, 0.25]])
    amounts = np.array([2000.0, 4000.0])
    assert _normal_enough(odds, amounts).tolist() == [False]
    # 3,400 booked + (0, 2,000, 4,000, 6,000) with odds 56/19/19/6%
    assert _range(odds, np.array([0.0]), amounts, 0, 3400.0, 4000, 0) == (3400.0, 7400.0)


def test_the_bound_by_hand() -> None:
    """n equal deals of 1 won with p = 1/2: Var = n/4, sum E|X - EX|^3 = n/8, so the bound is
    0.56 * (n/8) / (n/4)^1.5 = 0.56 / sqrt(n): within 0.005 from n = 12,544 deals."""
    assert _normal_enough(np.full((1, 12_544), 0.5), np.ones(12_544)).tolist() == [True]
    assert _normal_enough(np.full((1, 12_543), 0.5), np.ones(12_543)).tolist() == [False]


def test_a_quarter_without_variance_is_simulated() -> None:
    """Deals sure to be won (or lost) leave no variance: the bound is undefined, not met."""
    odds = np.array([np.ones(20_000), np.zeros(20_000), np.full(20_000, 0.5)])
    amounts = np.ones(20_000)
    assert _normal_enough(odds, amounts).tolist() == [False, False, True]
    assert _range(odds[:2], np.array([0.0, 0.0]), amounts, 0, 0.0, 100, 1) == (0.0, 20_000.0)


def test_one_big_deal_among_many_keeps_the_simulation() -> None:
    """Many deals, but one of 10 million dwarfs the rest: the revenue is far from normal."""
    amounts = np.r_[np.ones(30_000), 10_000_000.0]
    assert _normal_enough(np.full((1, 30_001), 0.5), amounts).tolist() == [False]


@pytest.mark.parametrize("quarters", [1, 2])
def test_the_normal_range_is_the_simulated_range(quarters: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """50,000 deals of 1,000-90,000 with the odds of one past quarter (or two quarters with
    different odds), plus booked and new-deal revenue: the range drawn from the normal law equals
    the one simulated deal by deal (NORMAL_ERROR 0 forces the simulation) to within the
    simulation's own noise."""
    rng = np.random.default_rng(0)
    deals = 50_000
    amounts = rng.integers(1_000, 90_000, deals).astype(float)
    odds = np.vstack([rng.uniform(0.05, 0.6, deals), rng.uniform(0.1, 0.4, deals)])[:quarters]
    per_deal = np.array([150.0, 90.0])[:quarters]
    assert _normal_enough(odds, amounts).tolist() == [True] * quarters
    drawn = _range(odds, per_deal, amounts, 400, 1e6, 2000, 0)
    monkeypatch.setattr(forecast, "NORMAL_ERROR", 0.0)
    assert _normal_enough(odds, amounts).tolist() == [False] * quarters
    simulated = _range(odds, per_deal, amounts, 400, 1e6, 2000, 1)
    # one quarter: the range is 2.56 sd of its revenue (sd 4.4 million), and each percentile
    # of 2,000 draws is uncertain by 1.5% of it; two quarters: their means ~180 million apart
    spread = simulated[1] - simulated[0]
    assert spread > (1e7 if quarters == 1 else 1e8)
    assert drawn[0] == pytest.approx(simulated[0], abs=0.08 * spread)
    assert drawn[1] == pytest.approx(simulated[1], abs=0.08 * spread)


def test_deals_without_a_chance_or_sure_to_win_are_not_drawn() -> None:
    """Two deals of 2,000 and 4,000 at 25% among 100,000 no quarter gives a chance and one of
    500 every quarter wins: the range is the two deals' one, plus 500."""
    odds = np.zeros((1, 100_003))
    odds[0, :2] = 0.25
    odds[0, 2] = 1.0
    amounts = np.r_[2000.0, 4000.0, 500.0, np.full(100_000, 90_000.0)]
    assert _range(odds, np.array([0.0]), amounts, 0, 3400.0, 4000, 0) == (3900.0, 7900.0)


def test_a_deal_sure_in_one_quarter_only_is_drawn() -> None:
    """A deal of 1,000 won in one past quarter for sure and never in the other: half the draws
    have it (the 10th percentile without, the 90th with)."""
    odds = np.array([[1.0], [0.0]])
    assert _range(odds, np.zeros(2), np.array([1000.0]), 0, 0.0, 4000, 0) == (0.0, 1000.0)
