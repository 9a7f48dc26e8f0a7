"""Per-rep win rates with intervals and shrinkage, on hand-made reps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kpi.engine import Scope
from kpi.insights.small_numbers import prior_strength, rep_win_rates
from kpi.periods import Window
from tests.conftest import Tiny, d


@pytest.fixture
def closers(tiny: Tiny) -> Tiny:
    tiny.team("T")
    for rep, won, lost in (("A", 3, 0), ("B", 30, 70), ("C", 20, 80), ("D", 40, 60)):
        tiny.rep(rep, "T")
        for i in range(won + lost):
            tiny.deal(rep, "2025-01-02", "2025-02-01", won=i < won, amount=10)
    return tiny


def test_three_lucky_deals_do_not_top_the_ranking(closers: Tiny) -> None:
    table = rep_win_rates(closers.engine, Scope.everyone(), Window(d("2025-01-01"), d("2025-03-01")))
    rates = table.set_index("rep")
    assert rates.loc["Rep A", "win_rate"] == 1.0  # the raw leader
    assert table["rep"].iloc[0] == "Rep D"  # 40 of 100 leads once shrunk
    mean = 93 / 303
    for rep in ("Rep A", "Rep B", "Rep C", "Rep D"):  # shrunk lies between own rate and the mean
        raw, shrunk = rates.loc[rep, "win_rate"], rates.loc[rep, "shrunk"]
        assert min(raw, mean) <= shrunk <= max(raw, mean)
        assert rates.loc[rep, "low"] <= raw <= rates.loc[rep, "high"]
    assert (rates.loc["Rep A", "high"] - rates.loc["Rep A", "low"]) > (
        rates.loc["Rep B", "high"] - rates.loc["Rep B", "low"])  # fewer deals, wider interval
    half = 1.6448536269514722 * math.sqrt(mean * (1 - mean) / 100)
    assert rates.loc["Rep B", "funnel_high"] == pytest.approx(mean + half)


def test_prior_strength() -> None:
    assert prior_strength(np.array([10.0, 10.0]), np.array([40.0, 40.0])) == math.inf  # no spread
    assert prior_strength(np.array([0.0, 40.0]), np.array([40.0, 40.0])) == pytest.approx(0.0,
                                                                                        abs=0.05)
    assert prior_strength(np.array([5.0]), np.array([10.0])) == 0.0  # one rep: nothing to pool


def test_the_wilson_interval_is_statsmodels() -> None:
    import pandas as pd
    from statsmodels.stats.proportion import proportion_confint

    from kpi.insights.small_numbers import wilson

    rng = np.random.default_rng(7)
    closed = pd.Series(np.concatenate([[1, 1, 2, 5, 10, 400], rng.integers(1, 300, 200)]), dtype=float)
    won = pd.Series(np.concatenate([[0, 1, 1, 5, 0, 399],
                                    rng.integers(0, closed[6:].to_numpy() + 1)]), dtype=float)
    low, high = wilson(won, closed)
    want_low, want_high = proportion_confint(won, closed, alpha=0.10, method="wilson")
    assert np.allclose(low, want_low, rtol=0, atol=1e-12)
    assert np.allclose(high, want_high, rtol=0, atol=1e-12)
    rate = won / closed
    assert ((low >= -1e-12) & (high <= 1 + 1e-12)).all()
    assert ((low <= rate + 1e-12) & (rate <= high + 1e-12)).all()
