"""Lead-lag: on made-up panels with a known lead, and on demo companies against their truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpi.engine import Engine
from kpi.insights.lead_lag import LeadLag, analyse, lead_lag, stopped_predicting
from tests.insights.conftest import SEEDS

LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created")
AS_OF = dt.date(2026, 9, 30)  # the demo's last day
BEFORE_ROLLOUT = dt.date(2025, 9, 28)  # a year in which nothing leads win rate


def made_up(lead: int | None, weeks: int = 60, teams: int = 6, seed: int = 0,
            link_until: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Team x week panels: the lever swings with each team's push, the win rate ``lead`` weeks
    later (no link with ``lead=None``; the link ends at week ``link_until``). Teams differ in level
    and every team shares a seasonal swing, which the fixed effects must take out."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2025-01-06", periods=weeks, freq="7D")
    season = 0.3 * np.sin(np.arange(weeks) / 8)
    lever_rows, output_rows = [], []
    for team in range(teams):
        push = np.zeros(weeks + 20)
        for t in range(1, weeks + 20):
            push[t] = 0.7 * push[t - 1] + rng.normal(0, 0.5)
        level = rng.normal(0, 0.3)
        for t, period in enumerate(periods):
            rep_weeks = 8.0
            rate = np.exp(1.5 + level + season[t] + push[t + 20])
            linked = lead is not None and (link_until is None or t < link_until)
            driver = push[t + 20 - lead] if linked else rng.normal(0, 0.5)
            p_win = 1 / (1 + np.exp(-(-1.0 + level + season[t] + 0.6 * driver)))
            closed = 40
            lever_rows.append((f"T{team}", period, rng.poisson(rate * rep_weeks), rep_weeks))
            output_rows.append((f"T{team}", period, rng.binomial(closed, p_win), closed))
    columns = ["team", "period", "numerator", "denominator"]
    return pd.DataFrame(lever_rows, columns=columns), pd.DataFrame(output_rows, columns=columns)


def run(levers: pd.DataFrame, outputs: pd.DataFrame) -> LeadLag:
    return analyse(levers, outputs, lever="lever", output="win_rate", as_of=AS_OF,
                   output_is_rate=True, output_label="win rate", boot=100)


@pytest.mark.parametrize("lead", [0, 3, 7])
def test_a_made_up_lead_is_found_at_its_lag(lead: int) -> None:
    result = run(*made_up(lead, seed=lead))
    assert result.leads, result.message
    assert result.lag == lead
    assert result.lag_low <= lead <= result.lag_high
    assert result.low is not None and result.low > 0
    assert result.message.startswith("moves with it" if lead == 0 else f"leads by ~{lead} weeks")


def test_no_link_no_lead_beyond_the_tests_false_alarm_rate() -> None:
    """Ten made-up companies without a link: at the 10% level about one false alarm is due."""
    results = [run(*made_up(None, seed=seed)) for seed in range(10)]
    assert sum(r.leads for r in results) <= 2, [r.message for r in results]
    assert all(r.message.startswith("no evidence it leads") for r in results if not r.leads)


def test_a_lever_that_stopped_predicting_is_flagged() -> None:
    """Ten made-up companies whose lever led win rate by 4 weeks in 2025 and not at all in 2026:
    each finds the lead in 2025, and 2026 flags it as stopped unless its test gives a false
    alarm, which a level of 0.10 allows now and then (at most 2 of 10 here)."""
    flagged = 0
    for seed in range(11, 21):
        levers, outputs = made_up(4, weeks=104, seed=seed, link_until=52)
        first, second = (lambda f: f[f["period"] < "2026-01-05"],
                         lambda f: f[f["period"] >= "2026-01-05"])
        before, now = run(first(levers), first(outputs)), run(second(levers), second(outputs))
        assert before.leads and before.lag == 4, (seed, before.message)
        assert not stopped_predicting(before, before)
        flagged += stopped_predicting(before, now)
    assert flagged >= 8


def test_too_little_data_is_said() -> None:
    levers, outputs = made_up(3, weeks=12)
    result = run(levers, outputs)
    assert result.lag is None and not result.leads and "too little data" in result.message
    two = run(*(f[f["team"].isin(["T0", "T1"])] for f in made_up(3)))
    assert "too little data" in two.message
    empty = run(levers.iloc[:0], outputs.iloc[:0])
    assert "nothing recorded" in empty.message


@pytest.fixture(scope="module")
def demo_results(seed_engines: dict[int, Engine]) -> dict[int, dict[str, tuple[int, LeadLag, LeadLag]]]:
    """Per seed and lever: the true lead over win rate, the analysis now and a year earlier."""
    out = {}
    for seed, engine in seed_engines.items():
        truth = dict(engine.store.rows("SELECT metric_id, max(lag_weeks) FROM demo_truth "
                                       "GROUP BY 1")[1])
        out[seed] = {lever: (truth["win_rate"] - truth[lever],
                             lead_lag(engine, lever, "win_rate", AS_OF, boot=100),
                             lead_lag(engine, lever, "win_rate", BEFORE_ROLLOUT, boot=0))
                     for lever in (*LEVERS, "calls")}
    return out


@pytest.mark.parametrize("lever", LEVERS)
def test_the_true_lead_is_found_within_two_weeks(demo_results: dict, lever: str) -> None:
    hits = [abs(demo_results[s][lever][1].lag - demo_results[s][lever][0]) <= 2 for s in SEEDS]
    assert sum(hits) >= 4, [(s, demo_results[s][lever][1].message) for s in SEEDS]


def test_the_strongest_lever_is_found_to_lead(demo_results: dict) -> None:
    assert sum(demo_results[s]["new_prospect_meetings"][1].leads for s in SEEDS) >= 4


def test_the_lever_the_strategy_never_touched_does_not_lead(demo_results: dict) -> None:
    calls = [demo_results[s]["calls"][1] for s in SEEDS]
    assert sum(not r.leads for r in calls) >= 4, [r.message for r in calls]


def test_before_the_rollout_nothing_leads(demo_results: dict) -> None:
    """In the year before the rollout win rate follows no lever: few false alarms (10% level)."""
    verdicts = [demo_results[s][lever][2] for s in SEEDS for lever in (*LEVERS, "calls")]
    assert all(r.lag is not None for r in verdicts)
    assert sum(r.leads for r in verdicts) <= 0.2 * len(verdicts), [r.message for r in verdicts]


def test_levers_to_push_by_hand(tiny) -> None:  # noqa: ANN001 - tests.conftest.Tiny
    """No initiative, so the goal is the rep's own baseline: the 13 weeks before the last 13."""
    from kpi.engine import Scope
    from kpi.views import levers_to_push

    tiny.team("T1")
    tiny.rep("R1", "T1")
    baseline = pd.date_range("2024-12-23", "2025-03-17", freq="7D")  # 13 Mondays
    recent = pd.date_range("2025-05-26", "2025-06-16", freq="7D")  # the last 4 complete weeks
    for monday in baseline:
        tiny.activity("R1", str(monday.date()), type="demo", n=2)  # 2 per rep-week
        tiny.activity("R1", str(monday.date()), type="call")  # 1 per rep-week
    for monday in recent:
        tiny.activity("R1", str(monday.date()), type="demo")  # 1 per rep-week: half the goal
        tiny.activity("R1", str(monday.date()), type="call", n=2)  # 2 per rep-week: double
    leads = pd.DataFrame([
        {"lever": "calls", "output": "win_rate", "lever_label": "Calls", "leads": False,
         "verdict": "no evidence it leads"},
        {"lever": "demos", "output": "win_rate", "lever_label": "Demos", "leads": True,
         "verdict": "leads by ~6 weeks"},
        {"lever": "demos", "output": "revenue", "lever_label": "Demos", "leads": False,
         "verdict": "no evidence it leads"}])
    table = levers_to_push(tiny.engine, Scope.reps("R1"), dt.date(2025, 6, 29), None, leads)
    assert table["lever"].tolist() == ["demos", "calls"]  # the lever to push comes first
    demos, calls = table.iloc[0], table.iloc[1]
    assert (demos["recent"], demos["goal"], demos["vs_goal"]) == (1.0, 2.0, -0.5)
    assert (calls["recent"], calls["goal"], calls["vs_goal"]) == (2.0, 1.0, 1.0)
    assert demos["push"] and not calls["push"]
    assert demos["goal_kind"] == "own baseline"


def test_the_table_reads_each_panel_once_and_agrees_with_single_runs(demo_engine: Engine) -> None:
    from kpi.views import lead_lags

    table = lead_lags(demo_engine, ("demos", "calls"), ("win_rate",), AS_OF)
    for row in table.itertuples():
        single = lead_lag(demo_engine, row.lever, row.output, AS_OF, boot=200)
        assert (row.verdict, row.lag, row.p_value) == (single.headline, single.lag, single.p_value)
        before = lead_lag(demo_engine, row.lever, row.output, row.previous, boot=0)
        assert row.led_before == before.leads and row.stopped == (before.leads and not single.leads)
