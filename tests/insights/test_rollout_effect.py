"""The rollout-effect estimate recovers the demo company's injected truth.

Two seeds here, with tolerances tight enough to tell the true effect from half of it; the
ten-seed sweep (mean errors, interval coverage, false alarms) is ``make validate``, outside the
test suite.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.engine import Engine, Scope
from kpi.insights.rollout import RolloutEffect, estimate, estimate_output, poisson_fe, t95
from kpi.views import initiatives_for

LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created", "calls")
SEEDS = (1, 2)
POINTS = 0.06  # how far an estimate may be from the truth; less than half of the smallest effect


@pytest.fixture(scope="module")
def results(seed_engines: dict[int, Engine]) -> dict[int, dict[str, tuple]]:
    """Per seed: each lever's and win rate's injected effect, estimate and placebo."""
    out: dict[int, dict[str, tuple]] = {}
    for seed in SEEDS:
        engine = seed_engines[seed]
        initiative = initiatives_for(engine, Scope.everyone())[0]
        truth = dict(engine.store.rows("SELECT metric_id, max(effect_pct) FROM demo_truth "
                                       "GROUP BY 1")[1])
        cache: dict = {}
        out[seed] = {m: (truth[m], estimate(engine, initiative, m, cache=cache),
                         estimate(engine, initiative, m, shift_weeks=26, cache=cache))
                     for m in LEVERS}
        out[seed]["win_rate"] = (truth["win_rate"], estimate_output(engine, initiative, "win_rate",
                                                                    cache=cache),
                                 estimate_output(engine, initiative, "win_rate", shift_weeks=26,
                                                 cache=cache))
    return out


def covers(result: RolloutEffect, value: float) -> bool:
    assert result.low is not None and result.high is not None, result.message
    return result.low <= value <= result.high


@pytest.mark.parametrize("metric", [*LEVERS, "win_rate"])
def test_the_estimate_is_the_true_effect_not_half_of_it(results: dict, metric: str) -> None:
    for seed in SEEDS:
        truth, effect, _ = results[seed][metric]
        assert effect.effect is not None, effect.message
        assert abs(effect.effect - truth) <= POINTS, (seed, effect.message)
        if truth:
            assert abs(effect.effect - truth) < abs(effect.effect - truth / 2), (seed, effect.message)


def test_the_intervals_hold_the_truth(results: dict) -> None:
    hits = [covers(results[s][m][1], results[s][m][0]) for s in SEEDS for m in results[s]]
    assert sum(hits) >= len(hits) - 2  # nominal 90%: about one miss in ten
    widths = [results[s][m][1].high - results[s][m][1].low for s in SEEDS for m in LEVERS]
    assert max(widths) < 0.25, widths  # narrow enough to be useful (the old design: 30-60 points)


def test_the_lever_the_strategy_never_touched_shows_no_effect(results: dict) -> None:
    calls = [results[s]["calls"][1] for s in SEEDS]
    assert all(abs(c.effect) <= 0.03 for c in calls), [c.message for c in calls]
    assert sum(c.significant for c in calls) <= 1


def test_a_placebo_rollout_half_a_year_earlier_finds_nothing(results: dict) -> None:
    placebos = [results[s][m][2] for s in SEEDS for m in results[s]]
    assert all(p.effect is not None for p in placebos), [p.message for p in placebos]
    assert sum(p.significant for p in placebos) <= 1, [p.message for p in placebos if p.significant]
    assert all("weeks 8-25" in p.message or "weeks 16-25" in p.message for p in placebos)


def test_every_injected_effect_is_detected(results: dict) -> None:
    for seed in SEEDS:
        for metric, (truth, effect, _) in results[seed].items():
            assert effect.significant == (truth != 0) or metric == "calls", effect.message


def test_event_study_shape(results: dict) -> None:
    study = results[1]["new_prospect_meetings"][1].event_study
    assert list(study.columns) == ["week_since_adoption", "effect", "low", "high"]
    assert study["week_since_adoption"].tolist() == [-16, -12, -8, -4, 0, 4, 8]
    assert (study["low"] <= study["effect"]).all() and (study["effect"] <= study["high"]).all()
    before = study[study["week_since_adoption"] < 0]
    assert (before["low"] <= 0).sum() >= 3 and (before["high"] >= 0).sum() >= 3
    win = results[1]["win_rate"][1].event_study["week_since_adoption"].tolist()
    assert win == [-16, -12, -8, -4, 0, 4, 8, 12, 16]


def test_win_rate_does_not_move_in_the_first_eight_weeks(results: dict) -> None:
    """The demo's win rate starts moving 8 weeks after adoption."""
    for seed in SEEDS:
        study = results[seed]["win_rate"][1].event_study.set_index("week_since_adoption")
        assert study.loc[0, "low"] <= 0 <= study.loc[0, "high"]


def test_levers_use_reps_and_rates_use_teams(results: dict) -> None:
    assert results[1]["demos"][1].unit == "rep" and results[1]["demos"][1].reps > 40
    assert results[1]["win_rate"][1].unit == "team" and results[1]["win_rate"][1].reps == 6
    assert {results[1][m][1].design for m in results[1]} == {"time series"}


def test_too_little_data_is_said(demo_engine: Engine) -> None:
    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    _, end = demo_engine.data_range()
    for day in (dt.date(2024, 11, 4), end - dt.timedelta(weeks=12)):  # too early, too late
        moved = dataclasses.replace(initiative, teams=tuple(
            (team, day) for team, _ in initiative.teams))
        for result in (estimate(demo_engine, moved, "demos"),
                       estimate_output(demo_engine, moved, "win_rate")):
            assert result.effect is None and "too little data" in result.message
    with pytest.raises(ValueError, match="not a rate of counts"):
        estimate_output(demo_engine, initiative, "sales_cycle_days")
    with pytest.raises(ValueError, match="not a per-rep-week lever"):
        estimate(demo_engine, initiative, "win_rate")


@pytest.mark.parametrize("teams", ["one team", "everyone at once"])
def test_one_adoption_date_is_enough(demo_engine: Engine, teams: str) -> None:
    """One team, or an initiative without teams (the whole company on its rollout date): each
    unit is still compared with its own weeks before adoption."""
    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    chosen = initiative.teams[:1] if teams == "one team" else ()
    chosen_initiative = dataclasses.replace(initiative, teams=chosen)
    result = estimate(demo_engine, chosen_initiative, "new_prospect_meetings")
    assert result.effect is not None and result.low is not None, result.message
    assert result.significant and result.effect > 0.2
    placebo = estimate(demo_engine, chosen_initiative, "new_prospect_meetings", shift_weeks=26)
    assert placebo.effect is not None and not placebo.significant, placebo.message


def test_the_fit_matches_statsmodels_with_dummies() -> None:
    """Profiling the unit effects out gives the coefficients and the clustered covariance of an
    ordinary Poisson GLM with one dummy per unit."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    units = np.repeat(np.arange(12), 30)
    teams = units // 4
    x = np.column_stack([rng.random(len(units)) < 0.4, rng.normal(size=len(units))]).astype(float)
    exposure = rng.uniform(0.5, 1.0, len(units))
    y = rng.poisson(exposure * np.exp(0.3 * units / 12 + x @ [0.25, -0.1])).astype(float)
    beta, (cov,) = poisson_fe(y, np.log(exposure), units, x, teams)
    dummies = pd.get_dummies(units, drop_first=True, dtype=float).to_numpy()
    design = np.column_stack([np.ones(len(units)), dummies, x])
    glm = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(exposure)).fit(
        cov_type="cluster", cov_kwds={"groups": teams})
    assert np.allclose(beta, glm.params[-2:], atol=1e-7)
    assert np.allclose(cov, glm.cov_params()[-2:, -2:], rtol=1e-6)


def test_t_quantiles() -> None:
    from scipy.special import stdtrit

    for df in (1, 2, 5, 9, 10, 11, 30, 199):
        assert t95(df) == pytest.approx(float(stdtrit(df, 0.95)), abs=1e-5)


def test_method_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "insights.md").read_text()
    assert "Poisson" in doc and "placebo" in doc and "Estimand" in doc
    for section in ("lead–lag", "forecast", "interrupted time series", "small numbers"):
        assert f"{section})" in doc, section
    assert "Not built yet" not in doc and "make validate" in doc
