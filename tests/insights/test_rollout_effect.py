"""The rollout-effect estimate recovers the demo company's injected truth, over several seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi.engine import Engine, Scope
from kpi.insights.rollout import RolloutEffect, estimate
from kpi.views import initiatives_for
from tests.insights.conftest import SEEDS

LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created", "calls")


@pytest.fixture(scope="module")
def results(seed_engines: dict[int, Engine]) -> dict[int, dict[str, tuple]]:
    """Per seed: each lever's injected effect, its estimate and its placebo estimate."""
    out: dict[int, dict[str, tuple]] = {}
    for seed, engine in seed_engines.items():
        initiative = initiatives_for(engine, Scope.everyone())[0]
        truth = dict(engine.store.rows("SELECT metric_id, max(effect_pct) FROM demo_truth "
                                       "GROUP BY 1")[1])
        out[seed] = {m: (truth[m], estimate(engine, initiative, m),
                         estimate(engine, initiative, m, shift_weeks=26)) for m in LEVERS}
    return out


def covers(result: RolloutEffect, value: float) -> bool:
    assert result.low is not None and result.high is not None, result.message
    return result.low <= value <= result.high


@pytest.mark.parametrize("lever", LEVERS)
def test_the_true_effect_is_inside_the_90_percent_interval_in_most_seeds(
        results: dict, lever: str) -> None:
    hits = [covers(results[s][lever][1], results[s][lever][0]) for s in SEEDS]
    assert sum(hits) >= 3, [(s, results[s][lever][1].message) for s in SEEDS]


def test_the_intervals_are_honest_overall(results: dict) -> None:
    hits = [covers(results[s][m][1], results[s][m][0]) for s in SEEDS for m in LEVERS]
    assert sum(hits) / len(hits) >= 0.8  # nominal 90%


def test_the_lever_the_strategy_never_touched_shows_no_effect(results: dict) -> None:
    assert sum(covers(results[s]["calls"][1], 0.0) for s in SEEDS) >= 4


@pytest.mark.parametrize("lever", LEVERS)
def test_a_placebo_rollout_half_a_year_earlier_finds_nothing(results: dict, lever: str) -> None:
    assert sum(covers(results[s][lever][2], 0.0) for s in SEEDS) >= 4


def test_the_strongest_lever_is_detected(results: dict) -> None:
    assert sum(results[s]["new_prospect_meetings"][1].significant for s in SEEDS) >= 4


def test_too_little_data_is_said(demo_engine: Engine) -> None:
    import dataclasses
    import datetime as dt

    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    (t1, day), (t2, _) = initiative.teams[:2]
    close = dataclasses.replace(initiative, teams=((t1, day), (t2, day + dt.timedelta(weeks=1))))
    result = estimate(demo_engine, close, "demos")
    assert result.effect is None and "too little data" in result.message
    assert result.design == "staggered"


@pytest.mark.parametrize("teams", ["one team", "everyone at once"])
def test_without_teams_to_compare_the_time_series_answers(demo_engine: Engine,
                                                          teams: str) -> None:
    """One team, or an initiative without teams (the whole company on its rollout date)."""
    import dataclasses

    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    chosen = initiative.teams[:1] if teams == "one team" else ()
    result = estimate(demo_engine, dataclasses.replace(initiative, teams=chosen),
                      "new_prospect_meetings")
    assert result.design == "time series"
    assert result.effect is not None and result.low is not None, result.message
    assert list(result.event_study["week_since_adoption"]) == [0, 8]


def test_event_study_shape(results: dict) -> None:
    study = results[1]["new_prospect_meetings"][1].event_study
    assert list(study.columns) == ["week_since_adoption", "effect", "low", "high"]
    assert -1 not in study["week_since_adoption"].tolist()  # the reference week
    assert (study["low"] <= study["effect"]).all() and (study["effect"] <= study["high"]).all()


def test_method_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "insights.md").read_text()
    assert "Poisson" in doc and "placebo" in doc and "parallel" in doc
    for section in ("lead–lag", "forecast", "interrupted time series", "small numbers"):
        assert f"{section})" in doc, section
    assert "Not built yet" not in doc


@pytest.fixture(scope="module")
def win_rate(seed_engines: dict[int, Engine]) -> dict[int, tuple]:
    """Per seed: the injected win-rate effect, the time-series estimate and its placebo."""
    from kpi.insights.rollout import estimate_output

    out = {}
    for seed, engine in seed_engines.items():
        initiative = initiatives_for(engine, Scope.everyone())[0]
        truth = engine.store.scalar("SELECT max(effect_pct) FROM demo_truth "
                                    "WHERE metric_id = 'win_rate'")
        out[seed] = (truth, estimate_output(engine, initiative, "win_rate"),
                     estimate_output(engine, initiative, "win_rate", shift_weeks=26))
    return out


def test_the_win_rate_effect_is_inside_the_interval_in_most_seeds(win_rate: dict) -> None:
    hits = [covers(win_rate[s][1], win_rate[s][0]) for s in SEEDS]
    assert sum(hits) >= 4, [win_rate[s][1].message for s in SEEDS]
    assert sum(win_rate[s][1].significant for s in SEEDS) >= 4


def test_win_rate_does_not_move_in_the_first_eight_weeks(win_rate: dict) -> None:
    """The demo's win rate starts moving 8 weeks after adoption."""
    first = [win_rate[s][1].event_study.iloc[0] for s in SEEDS]
    assert all(row["week_since_adoption"] == 0 for row in first)
    assert sum(row["low"] <= 0 <= row["high"] for row in first) >= 4


def test_a_placebo_before_the_rollout_finds_no_win_rate_effect(win_rate: dict) -> None:
    assert sum(covers(win_rate[s][2], 0.0) for s in SEEDS) >= 4


def test_too_little_history_for_a_time_series_is_said(demo_engine: Engine) -> None:
    import dataclasses
    import datetime as dt

    from kpi.insights.rollout import estimate_output

    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    early = dataclasses.replace(initiative, teams=tuple(
        (team, dt.date(2024, 11, 4)) for team, _ in initiative.teams))
    result = estimate_output(demo_engine, early, "win_rate")
    assert result.effect is None and "too little data" in result.message
    with pytest.raises(ValueError, match="not a rate of counts"):
        estimate_output(demo_engine, initiative, "sales_cycle_days")
