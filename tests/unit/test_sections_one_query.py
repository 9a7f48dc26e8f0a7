"""A page section reads its numbers in one query: the cards of a page, the segments table, an
initiative's progress and a rep's pace each make one metric query however many metrics, windows
and comparisons they show (the other queries they make are small reads of people and teams)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kpi import views
from kpi.engine import Engine, Scope
from kpi.periods import Window, shift_years


class Counting:
    """The engine's store, counting the metric queries (those with a period spine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.metric_queries = engine, 0
        self._rows = engine.store.rows

    def __enter__(self) -> Counting:
        def rows(sql: str, params: Any = None) -> Any:
            self.metric_queries += "spine AS (" in sql
            return self._rows(sql, params)

        self.engine.store.rows = rows  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.engine.store.rows


@pytest.fixture
def demo(demo_engine: Engine) -> Iterator[tuple[Engine, dt.date, Any]]:
    day = views.as_of(demo_engine)
    initiative = views.initiatives_for(demo_engine, Scope.everyone())[0]
    yield demo_engine, day, initiative


def queries(engine: Engine, section: Callable[[], Any]) -> tuple[int, Any]:
    with Counting(engine) as counting:
        result = section()
    return counting.metric_queries, result


def test_cards_are_one_query(demo: tuple[Engine, dt.date, Any]) -> None:
    engine, day, initiative = demo
    outputs = engine.catalog.shown("outputs")
    assert len(outputs) >= 4
    _, [(team_id,)] = engine.store.rows("SELECT min(team_id) FROM teams")
    for scope in (Scope.everyone(), Scope.teams(team_id)):
        n, cards = queries(engine, lambda s=scope: views.cards(engine, outputs, "quarter", day, s,
                                                               initiative))
        assert n == 1, f"{n} metric queries for {len(cards)} cards in {scope}"
        assert [c.metric_id for c in cards] == list(outputs)
        assert sum(c.value is not None for c in cards) >= 3  # the one query answered them
        assert sum(c.vs_baseline is not None for c in cards) >= 3


def test_segments_progress_and_pace_are_one_query_each(demo: tuple[Engine, dt.date, Any]) -> None:
    engine, day, initiative = demo
    window = Window(shift_years(day, -1), day)
    n, table = queries(engine, lambda: views.segments(engine, "industry", window,
                                                      Scope.everyone(), day))
    assert n == 1 and len(table) >= 3 and table["win_rate"].notna().all()
    n, progress = queries(engine, lambda: views.initiative_progress(engine, initiative, day,
                                                                    Scope.everyone()))
    assert n == 1 and len(progress) == len(initiative.metric_ids()) >= 2
    assert all(p.baseline is not None for p in progress)
    _, [(rep_id,)] = engine.store.rows("SELECT min(rep_id) FROM reps")
    levers = engine.catalog.shown("levers")
    n, paces = queries(engine, lambda: views.pace(engine, Scope.reps(rep_id), levers, day,
                                                  initiative))
    counted = [m for m in levers if engine.catalog.get(m).per_rep_week]
    assert len(paces) == 3 * len(counted) >= 6  # week, month and quarter of each
    assert n == 1, n
    assert any(p.actual > 0 for p in paces)


def test_a_trend_with_its_baseline_band_and_targets_is_one_query(
        demo: tuple[Engine, dt.date, Any]) -> None:
    engine, day, initiative = demo
    window = Window(shift_years(day, -1), day)
    for metric_id in (*engine.catalog.shown("outputs"), *initiative.metric_ids()):
        n, table = queries(engine, lambda m=metric_id: views.trend(engine, m, "month", window,
                                                                   Scope.everyone(), initiative))
        assert n == 1, f"{metric_id}: {n} metric queries"
        assert len(table) >= 12 and table["baseline"].notna().any(), metric_id


def test_off_track_and_streaks_read_every_levers_weeks_in_one_query(
        demo: tuple[Engine, dt.date, Any]) -> None:
    """Each lever's rep-weeks, the reps' own baselines and the initiative-wide standards its
    targets raise: one query for a team's off-track table and for a rep's streaks, with or
    without an initiative."""
    engine, day, initiative = demo
    levers = engine.catalog.shown("levers")
    assert sum(m in initiative.metric_ids() for m in levers[:3]) >= 2  # targets to raise
    _, [(team_id,)] = engine.store.rows("SELECT min(team_id) FROM teams")
    _, [(rep_id,)] = engine.store.rows("SELECT min(rep_id) FROM reps")
    for chosen in (None, initiative):
        n, table = queries(engine, lambda i=chosen: views.off_track(
            engine, levers[:3], Scope.teams(team_id), day, i))
        assert n == 1 and len(table) >= 1, (n, chosen)
        n, streaks = queries(engine, lambda i=chosen: views.streaks(
            engine, Scope.reps(rep_id), levers, day, i))
        assert n == 1 and len(streaks) >= 3, (n, chosen)
    heat = views.lever_weeks(engine, levers[0], Scope.teams(team_id), day, 8, initiative)
    assert heat["target"].notna().any()  # the standard read in the batch raised

