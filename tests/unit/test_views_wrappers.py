"""The views that hand a question to kpi.baseline or kpi.insights, by hand: the viewer's scope,
day and window reach them, and what they return is the scope's.

Team T (Alpha, enterprise): A and B, hired 1 January 2025. Team U (Beta, smb): C, hired
1 January 2024. A holds 2 meetings on Tuesday 18 and 25 February and 3 on 4 and 11 March; B none;
C 4 on each of those Tuesdays. Deals: A won 1,000 on 10 February and lost 1,000 on 12 February;
A has 500 open, expected 20 March; C won 7,000 on 11 February and has 900 open, expected 25
March. Quotas for the first quarter: A 4,000, C 10,000. 'Today' is Saturday 15 March 2025.

"Meet more" (T, baseline 17 February - 2 March, rollout Monday 3 March) raises meetings by 50%
and demos by 20%.
"""

from __future__ import annotations

import pytest

from kpi.baseline import progress
from kpi.engine import Scope
from kpi.initiatives import Initiative, create_initiative, get_initiative
from kpi.insights.rollout import estimate, estimate_output
from kpi.periods import Window
from kpi.views import (
    initiative_progress,
    initiative_trend,
    pipeline_coverage_needed,
    quarter_forecast,
    rep_win_rates,
    rollout_effects,
    rollout_output_effects,
)
from tests.conftest import Tiny, d

TODAY = d("2025-03-15")
QUARTER = Window(d("2025-01-01"), d("2025-03-31"))


@pytest.fixture
def firm(tiny: Tiny) -> Tiny:
    tiny.team("T", "Alpha")
    tiny.team("U", "Beta")
    tiny.rep("A", "T", hired="2025-01-01", segment="enterprise")
    tiny.rep("B", "T", hired="2025-01-01", segment="enterprise")
    tiny.rep("C", "U", hired="2024-01-01", segment="smb")
    for day, a in (("2025-02-18", 2), ("2025-02-25", 2), ("2025-03-04", 3), ("2025-03-11", 3)):
        tiny.activity("A", day, n=a)
        tiny.activity("C", day, n=4)
    tiny.deal("A", "2025-01-05", "2025-02-10", won=True, amount=1000)
    tiny.deal("A", "2025-01-06", "2025-02-12", won=False, amount=1000)
    tiny.deal("A", "2025-03-01", expected="2025-03-20", amount=500)
    tiny.deal("C", "2025-01-05", "2025-02-11", won=True, amount=7000)
    tiny.deal("C", "2025-03-01", expected="2025-03-25", amount=900)
    tiny.quota("A", "2025-01-01", "2025-03-31", 4000)
    tiny.quota("C", "2025-01-01", "2025-03-31", 10000)
    create_initiative(tiny.store, name="Meet more", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-03"), baseline_weeks=2, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"meetings": 0.5, "demos": 0.2})
    return tiny


def meet(tiny: Tiny) -> Initiative:
    return get_initiative(tiny.store, "meet-more")


def test_rep_win_rates_are_the_scopes_reps_in_the_window(firm: Tiny) -> None:
    table = rep_win_rates(firm.engine, Scope.teams("T"), Window(d("2025-02-01"), TODAY))
    assert [tuple(r) for r in table[["rep", "won", "closed", "win_rate"]].itertuples(
        index=False)] == [("Rep A", 1, 2, 0.5)]
    assert rep_win_rates(firm.engine, Scope.teams("T"), Window(d("2025-02-11"), TODAY))[
        ["won", "closed"]].values.tolist() == [[0, 1]]  # the win of 10 February is outside


def test_the_quarter_forecast_is_the_scopes_quarter_to_date(firm: Tiny) -> None:
    got = quarter_forecast(firm.engine, Scope.teams("T"), TODAY)
    assert (got.quarter, got.as_of, got.booked, got.quota, got.open_deals) == (
        QUARTER, TODAY, 1000.0, pytest.approx(4000.0), 1)  # quotas are summed per day
    everyone = quarter_forecast(firm.engine, Scope.everyone(), TODAY)
    assert (everyone.booked, everyone.quota, everyone.open_deals) == (
        8000.0, pytest.approx(14000.0), 2)


def test_pipeline_coverage_needed_per_segment_of_the_scope(firm: Tiny) -> None:
    """Enterprise: 3,000 of quota left; half the value closed in the last year was won, so 6,000
    of pipeline is needed, and 500 is open and due: coverage 1/6, 5,500 short."""
    table = pipeline_coverage_needed(firm.engine, Scope.teams("T"), TODAY)
    columns = ["segment", "quota", "booked", "remaining", "win_rate", "needed_coverage",
               "pipeline_needed", "open_pipeline", "coverage", "gap"]
    assert [(r[0], pytest.approx(r[1:])) for r in table[columns].itertuples(index=False)] == [
        ("enterprise", (4000.0, 1000.0, 3000.0, 0.5, 2.0, 6000.0, 500.0, 500 / 3000, 5500.0))]
    assert pipeline_coverage_needed(firm.engine, Scope.everyone(), TODAY)["segment"].tolist() == [
        "enterprise", "smb"]


def test_initiative_progress_is_each_target_for_the_viewer(firm: Tiny) -> None:
    """Two reps are too few for one standard: A is measured against A's own baseline, 2 a week
    (T's would be 1)."""
    initiative = meet(firm)
    got = initiative_progress(firm.engine, initiative, TODAY, Scope.reps("A"))
    assert [p.metric_id for p in got] == ["meetings", "demos"]
    assert got == [progress(firm.engine, initiative, m, TODAY, Scope.reps("A"))
                   for m in ("meetings", "demos")]
    assert got[0].baseline == 2.0
    team = initiative_progress(firm.engine, initiative, TODAY, Scope.everyone())
    assert team[0].baseline == 1.0  # the initiative's teams only: T, not C's 4 a week


def test_initiative_trend_is_the_initiative_teams_narrowed_to_the_viewer(firm: Tiny) -> None:
    shown = Window(d("2025-03-03"), d("2025-03-16"))
    company = initiative_trend(firm.engine, "meetings", "week", shown, Scope.everyone(),
                               meet(firm))
    assert company["period"].tolist() == [d("2025-03-03"), d("2025-03-10")]
    assert company["value"].tolist() == [1.5, 1.5]  # A's 3 over A and B, C left out
    assert company["target"].tolist() == [1.5, 1.5]  # T's baseline of 1, raised by 50%
    rep = initiative_trend(firm.engine, "meetings", "week", shown, Scope.reps("A"), meet(firm))
    assert rep["value"].tolist() == [3.0, 3.0]
    assert rep["baseline"].tolist() == [2.0, 2.0]
    outside = initiative_trend(firm.engine, "meetings", "week", shown, Scope.teams("U"),
                               meet(firm))
    assert outside["numerator"].tolist() == [0, 0]  # U is no team of the initiative


def summary(effect) -> tuple:  # noqa: ANN001 - a RolloutEffect
    return (effect.metric_id, effect.effect, effect.low, effect.high, effect.reps, effect.weeks,
            effect.message, effect.design, effect.unit, effect.event_study.to_dict("list"))


def test_rollout_effects_are_each_lever_with_its_placebo_26_weeks_earlier(firm: Tiny) -> None:
    initiative = meet(firm)
    got = rollout_effects(firm.engine, initiative, ("win_rate", "meetings", "demos"))
    assert [(now.metric_id, placebo.metric_id) for now, placebo in got] == [
        ("meetings", "meetings"), ("demos", "demos")]  # a rate is no per-rep-week lever
    assert [(summary(now), summary(placebo)) for now, placebo in got] == [
        (summary(estimate(firm.engine, initiative, m)),
         summary(estimate(firm.engine, initiative, m, shift_weeks=26)))
        for m in ("meetings", "demos")]


def test_rollout_output_effects_are_each_output_with_its_placebo(firm: Tiny) -> None:
    initiative = meet(firm)
    got = rollout_output_effects(firm.engine, initiative, ("win_rate", "win_rate_value"))
    assert [(now.metric_id, placebo.metric_id) for now, placebo in got] == [
        ("win_rate", "win_rate"), ("win_rate_value", "win_rate_value")]
    assert [(summary(now), summary(placebo)) for now, placebo in got] == [
        (summary(estimate_output(firm.engine, initiative, m)),
         summary(estimate_output(firm.engine, initiative, m, shift_weeks=26)))
        for m in ("win_rate", "win_rate_value")]


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple]:
    """Record each call of kpi.insights.rollout.``name`` (metric, shift, the cache passed) and
    answer with what the real function answers."""
    import kpi.insights.rollout as rollout

    real, calls = getattr(rollout, name), []

    def spy(engine, initiative, metric_id, **kwargs):  # noqa: ANN001, ANN202 - a stand-in
        calls.append((metric_id, kwargs.get("shift_weeks", 0), kwargs.get("cache")))
        return real(engine, initiative, metric_id, **kwargs)

    monkeypatch.setattr(rollout, name, spy)
    return calls


@pytest.mark.parametrize(("view", "name", "metrics"), [
    (rollout_effects, "estimate", ("meetings", "demos")),
    (rollout_output_effects, "estimate_output", ("win_rate", "win_rate_value"))])
def test_each_placebo_is_the_estimate_26_weeks_earlier_from_the_same_weeks(
        firm: Tiny, monkeypatch: pytest.MonkeyPatch, view, name: str,  # noqa: ANN001
        metrics: tuple[str, ...]) -> None:
    """The placebo pretends the rollout came half a year earlier (docs/insights.md), and each
    estimate and its placebo share one cache of the weeks they read (the Insights page reads
    them once), a new one per call of the view."""
    calls = _spy(monkeypatch, name)
    view(firm.engine, meet(firm), metrics)
    assert [(m, shift) for m, shift, _ in calls] == [(m, s) for m in metrics for s in (0, 26)]
    caches = [cache for _, _, cache in calls]
    assert all(isinstance(c, dict) for c in caches)
    assert all(c is caches[0] for c in caches)
    first = caches[0]
    view(firm.engine, meet(firm), metrics)
    assert calls[-1][2] is not first


def test_run_is_the_request_as_the_engine_answers_it(firm: Tiny) -> None:
    """The explorer's view: meetings per rep over February and March, A 10 and C 16 (B none)."""
    from kpi.engine import MetricRequest
    from kpi.views import run

    got = run(firm.engine, MetricRequest.make("meetings", grain="total", by=["rep"],
                                              scope=Scope.everyone(), date_from=d("2025-02-01"),
                                              date_to=TODAY))
    assert [(r.rep, r.numerator) for r in got.sort_values("rep").itertuples()] == [
        ("Rep A", 10), ("Rep B", 0), ("Rep C", 16)]
