"""What the Insights page asks of the kept insights: the levers of a rollout, the year it looks
back on (29 February included), and the questions computed after an import, for the executive
and for each team's manager."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import views
from kpi.catalog import load_catalog
from kpi.engine import Scope
from kpi.initiatives import Initiative, Target
from kpi.insights import stored
from kpi.insights.forecast import past_quarters
from kpi.periods import Window
from kpi.store import Store
from tests.conftest import Tiny, d

NOW = dt.datetime(2025, 3, 1, 9, 0)


# the levers the shipped catalog puts in the lead-lag tests (`shown_in: [lead_lag]`)
LEAD_LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created",
               "pipeline_created", "calls")


def test_a_rollouts_levers_are_its_own_first_then_the_pages_levers_and_calls() -> None:
    initiative = Initiative("i1", "Focus", "", "", d("2025-03-03"), 8, d("2025-12-31"),
                            targets=(Target("demos", 0.2, d("2025-03-03"), NOW),
                                     Target("win_rate", 0.1, d("2025-03-03"), NOW),
                                     Target("demos", 0.3, d("2025-06-02"), NOW)))
    assert views.rollout_levers(load_catalog(), initiative) == (
        "demos", "win_rate", "new_prospect_meetings", "proposals_sent", "opps_created",
        "pipeline_created", "stage_conversion", "calls")


def test_the_year_back_from_29_february_starts_on_28_february() -> None:
    assert views.last_year(d("2028-02-29")) == Window(d("2027-02-28"), d("2028-02-29"))
    assert views.last_year(d("2026-09-30")) == Window(d("2025-09-30"), d("2026-09-30"))


def company() -> Tiny:
    tiny = Tiny()
    for team in ("T1", "T2"):
        tiny.team(team)
        tiny.rep(f"r{team}", team)
    tiny.deal("rT1", "2024-02-01", "2024-03-01", won=True, amount=100)
    return tiny


def test_after_an_import_the_executive_questions_then_each_managers() -> None:
    tiny = company()
    day = d("2024-03-01")
    executive = Scope.everyone().seen_by("executive")
    asked = [(fn.__name__, args) for fn, args in views.insight_questions(tiny.engine)]
    assert asked == [
        ("past_quarters", (day,)),  # in the page's order, the review (opened on demand) last
        ("quarter_forecast", (executive, day)), ("pipeline_coverage_needed", (executive, day)),
        ("lead_lags", (LEAD_LEVERS, ("win_rate", "revenue"), day)),
        ("lead_lag_detail", ("new_prospect_meetings", "win_rate", day)),
        ("rep_win_rates", (executive, views.last_year(day))),
        ("lead_lag_review", ("new_prospect_meetings", "win_rate", day))]
    assert views.insight_questions(tiny.engine)[0][0] is past_quarters
    teams = [(fn.__name__, args) for fn, args in views.team_questions(tiny.engine)]
    assert teams == [
        (name, args) for team in ("T1", "T2")
        for name, args in (
            ("quarter_forecast", (Scope.teams(team).seen_by("manager"), day)),
            ("pipeline_coverage_needed", (Scope.teams(team).seen_by("manager"), day)),
            ("rep_win_rates", (Scope.teams(team).seen_by("manager"), views.last_year(day))))]


def test_refresh_keeps_an_answer_for_every_question_and_the_teams_on_request() -> None:
    tiny = company()
    assert not views.insights_current(tiny.engine)
    took = views.refresh_insights(tiny.engine, tiny.store)
    assert views.insights_current(tiny.engine)
    assert list(took) == ["past_quarters", "quarter_forecast", "pipeline_coverage_needed",
                          "lead_lags", "lead_lag_detail", "rep_win_rates", "lead_lag_review"]
    assert all(isinstance(s, float) for s in took.values()), took
    assert _kept(tiny.store) == 7
    with_teams = views.refresh_insights(tiny.engine, tiny.store, teams=True)
    assert all(isinstance(s, float) for s in with_teams.values()), with_teams
    assert _kept(tiny.store) == 7 + 3 * 2


def test_insights_of_older_data_or_other_code_are_not_current() -> None:
    tiny = company()
    views.refresh_insights(tiny.engine, tiny.store)
    with tiny.store.transaction():
        stored.bump(tiny.store, "an import")
    assert not views.insights_current(tiny.engine)
    views.refresh_insights(tiny.engine, tiny.store)
    assert views.insights_current(tiny.engine)
    with tiny.store.transaction():  # as kept by another version of leverboard
        tiny.store.execute("UPDATE stored_insights SET insight_key = 'old:' || insight_key "
                           "WHERE name = 'rep_win_rates'")
    assert not views.insights_current(tiny.engine)


def test_insights_signed_with_another_key_are_not_current(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Kept by `python -m kpi import` run with another key: a page could not read them."""
    tiny = company()
    try:
        monkeypatch.setenv("KPI_INSIGHTS_KEY", "the command line's key")
        stored._secret.cache_clear()
        views.refresh_insights(tiny.engine, tiny.store)
        assert views.insights_current(tiny.engine)
        monkeypatch.setenv("KPI_INSIGHTS_KEY", "the server's key")
        stored._secret.cache_clear()
        assert not views.insights_current(tiny.engine)
    finally:
        monkeypatch.delenv("KPI_INSIGHTS_KEY")
        stored._secret.cache_clear()


def _kept(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM stored_insights"))


def test_a_rollout_adds_its_two_questions() -> None:
    tiny = company()
    from kpi.initiatives import create_initiative

    created = create_initiative(tiny.store, name="Focus", strategy="s", tactics="t",
                                rollout_date=dt.date(2024, 2, 12), baseline_weeks=2,
                                target_date=dt.date(2024, 12, 31), teams={"T1": dt.date(2024, 2, 12)},
                                targets={"demos": 0.2}, catalog=tiny.engine.catalog)
    asked = [(fn.__name__, args) for fn, args in views.insight_questions(tiny.engine)]
    initiative = views.initiatives_for(tiny.engine, Scope.everyone())[0]
    assert initiative.initiative_id == created.initiative_id
    assert [name for name, _ in asked] == [
        "past_quarters", "quarter_forecast", "pipeline_coverage_needed", "rollout_effects",
        "rollout_output_effects", "lead_lags", "lead_lag_detail", "rep_win_rates",
        "lead_lag_review"]
    assert asked[3:5] == [
        ("rollout_effects", (initiative, views.rollout_levers(tiny.engine.catalog, initiative))),
        ("rollout_output_effects", (initiative, views.ROLLOUT_OUTPUTS))]


def test_without_an_output_in_the_lead_lag_tests_no_lead_lag_detail_is_asked() -> None:
    """A catalog whose outputs are all taken out of the lead-lag tests still has levers there:
    the lead-lag table is asked (empty), its first pair's detail and review are not."""
    import dataclasses

    from kpi.catalog import Catalog
    from kpi.engine import Engine

    tiny = company()
    catalog = Catalog(tuple(
        dataclasses.replace(m, shown_in=tuple(p for p in m.shown_in if p != "lead_lag"))
        if m.kind == "output" else m for m in load_catalog().metrics))
    asked = [(fn.__name__, args) for fn, args in views.insight_questions(Engine(tiny.store, catalog))]
    assert [name for name, _ in asked] == ["past_quarters", "quarter_forecast",
                                           "pipeline_coverage_needed", "lead_lags", "rep_win_rates"]
    assert asked[3] == ("lead_lags", (LEAD_LEVERS, (), d("2024-03-01")))


def test_a_forecast_reads_the_kept_stage_odds_of_past_quarters(monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """Every scope's forecast is given the company-wide past quarters kept after the import,
    instead of computing them again."""
    from kpi.insights import forecast as forecasting
    from kpi.insights import stored

    tiny = company()
    day = d("2024-03-01")
    kept = stored.answer(tiny.engine, past_quarters, day)
    given: list[object] = []
    real = forecasting.forecast

    def spy(engine: object, scope: Scope, when: dt.date, **kwargs: object) -> object:
        given.append(kwargs.get("past", "not given"))
        return real(engine, scope, when, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(forecasting, "forecast", spy)
    views.quarter_forecast(tiny.engine, Scope.teams("T1"), day)
    assert len(given) == 1 and given[0] is not None and given[0] != "not given"
    assert repr(given[0]) == repr(kept)
