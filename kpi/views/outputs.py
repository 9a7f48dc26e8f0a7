"""The outputs: headline cards, trends and segments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kpi.baseline import (
    Basis,
    baseline_basis,
    baseline_days_request,
    baseline_for_days_of,
    initiative_scope,
    progress_series,
    relative_change,
    value_of,
    window_request,
)
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative
from kpi.periods import Window, period_last_day, period_to_date
from kpi.schema import Grain

# Which metrics each page shows is the catalog's `shown_in` (Catalog.shown(place, role)).
SEGMENT_DIMENSIONS = ("industry", "region", "motion", "product")


SEGMENT_METRICS = ("win_rate", "avg_deal_size", "sales_cycle_days", "gross_margin", "revenue")


@dataclass(frozen=True)
class Card:
    """One number with its like-for-like comparisons."""

    metric_id: str
    label: str
    unit: str
    direction: str
    definition: str
    formula: str
    window: Window
    value: float | None
    last_year: float | None
    vs_last_year: float | None
    vs_baseline: float | None
    target_change: float | None
    per_week: bool  # counts and sums: the baseline is scaled to the same days
    period_days: int = 0  # days in the whole period the window is the start of
    last_year_window: Window | None = None
    baseline: float | None = None  # what the baseline says the same days would show
    missing: str = "no data"  # what a missing value means, in words
    note: str | None = None  # whose baseline is used, or why there is no comparison

    @property
    def partial(self) -> bool:
        """The window is the start of its period, not the whole of it."""
        return self.window.days < self.period_days


def cards(engine: Engine, metric_ids: tuple[str, ...] | list[str], grain: Grain, day: dt.date,
          scope: Scope, initiative: Initiative | None = None) -> list[Card]:
    """Period to date (``grain``) against the same days last year and against the baseline's
    same weekdays, in the same scope on both sides."""
    window = period_to_date(day, grain)
    period_days = (period_last_day(window.start, grain) - window.start).days + 1
    # a week to date meets the same weekdays 52 weeks earlier; longer periods the same dates
    last = (Window(window.start - dt.timedelta(weeks=52), window.end - dt.timedelta(weeks=52))
            if grain == "week" else window.shift_years(-1))
    basis = None
    if initiative is not None:
        basis = baseline_basis(engine, _baseline_of(initiative), scope, day)
    # every card's numbers in one query: this window, last year's, the baseline's days
    answer = engine.answers(r for m in metric_ids
                            for r in _card_requests(engine, m, window, last, scope, initiative,
                                                    basis))
    return [_card(engine, m, window, period_days, last, scope, initiative, basis, answer)
            for m in metric_ids]


def _baseline_of(initiative: Initiative) -> Window:
    return Window(initiative.baseline_start, initiative.baseline_end)


def _expected_scope(engine: Engine, metric_id: str, basis: Basis | None) -> Scope | None:
    """Whose baseline a card compares with (None: no comparison): a team's total is no rep's."""
    if basis is None or basis.scope is None:
        return None
    return basis.scope if basis.own or not engine.catalog.get(metric_id).grows_with_period else None


def _card_requests(engine: Engine, metric_id: str, window: Window, last: Window, scope: Scope,
                   initiative: Initiative | None, basis: Basis | None) -> list[MetricRequest]:
    requests = [window_request(metric_id, window.start, window.end, scope),
                window_request(metric_id, last.start, last.end, scope)]
    expected_scope = _expected_scope(engine, metric_id, basis)
    if initiative is not None and expected_scope is not None:
        requests.append(baseline_days_request(engine.catalog.get(metric_id),
                                              _baseline_of(initiative), expected_scope))
    return requests


def _card(engine: Engine, metric_id: str, window: Window, period_days: int, last: Window,
          scope: Scope, initiative: Initiative | None, basis: Basis | None,
          answer: dict[MetricRequest, pd.DataFrame]) -> Card:
    metric = engine.catalog.get(metric_id)
    per_week = metric.grows_with_period
    value = value_of(answer[window_request(metric_id, window.start, window.end, scope)])
    last_year = value_of(answer[window_request(metric_id, last.start, last.end, scope)])
    expected = target = note = None
    if initiative is not None and basis is not None:
        note = basis.note
        expected_scope = _expected_scope(engine, metric_id, basis)
        if expected_scope is not None:
            request = baseline_days_request(metric, _baseline_of(initiative), expected_scope)
            expected = baseline_for_days_of(metric, answer[request], window)
        version = initiative.target_on(metric_id, window.end)
        target = version.change_pct if version else None
    return Card(metric.id, metric.label, metric.unit, metric.direction, metric.definition,
                metric.formula, window, value, last_year, relative_change(last_year, value),
                relative_change(expected, value), target, per_week, period_days, last, expected,
                metric.missing, note)


def trend(engine: Engine, metric_id: str, grain: Grain, window: Window, scope: Scope,
          initiative: Initiative | None = None) -> pd.DataFrame:
    """The metric per period in ``scope``; with an initiative also its baseline band (same
    scope), target steps and pace."""
    if initiative is None:
        return engine.run(MetricRequest.make(metric_id, grain=grain, scope=scope,
                                             date_from=window.start, date_to=window.end))
    return progress_series(engine, initiative, metric_id, grain, window.end, scope, window.start)


def initiative_trend(engine: Engine, metric_id: str, grain: Grain, window: Window, scope: Scope,
                     initiative: Initiative) -> pd.DataFrame:
    """:func:`trend` over the initiative's own teams, narrowed to what the viewer may see."""
    return trend(engine, metric_id, grain, window, initiative_scope(initiative, scope), initiative)


def segments(engine: Engine, dimension: str, window: Window, scope: Scope,
             day: dt.date) -> pd.DataFrame:
    """Where we win more, faster, at better margins, and how much open pipeline sits there."""
    table: pd.DataFrame | None = None
    *frames, pipeline = engine.run_many([  # one query
        *(MetricRequest.make(metric_id, grain="total", by=[dimension], scope=scope,
                             date_from=window.start, date_to=window.end)
          for metric_id in SEGMENT_METRICS),
        MetricRequest.make("open_pipeline", grain="total", by=[dimension], scope=scope,
                           date_from=day, date_to=day + dt.timedelta(days=365))])
    for metric_id, frame in zip(SEGMENT_METRICS, frames, strict=True):
        part = frame[[dimension, "value"]].rename(columns={"value": metric_id})
        if metric_id == "win_rate":
            part["closed_deals"] = frame["denominator"].astype(int)
        table = part if table is None else table.merge(part, on=dimension, how="outer")
    pipeline = pipeline[[dimension, "value"]].rename(columns={"value": "open_pipeline"})
    assert table is not None
    table = table.merge(pipeline, on=dimension, how="outer")
    table["open_pipeline"] = table["open_pipeline"].fillna(0.0)
    total = table["open_pipeline"].sum()
    table["pipeline_share"] = table["open_pipeline"] / total if total else 0.0
    return table.sort_values("win_rate", ascending=False, na_position="last").reset_index(drop=True)


def rep_win_rates(engine: Engine, scope: Scope, window: Window) -> pd.DataFrame:
    """Per-rep win rates with 90% intervals, shrunk rates and funnel limits (within scope)."""
    from kpi.insights.small_numbers import rep_win_rates as compute

    return compute(engine, scope, window)
