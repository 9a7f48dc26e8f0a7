"""One rep: pace in the week, month and quarter, streaks, the trend beside the team's."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from kpi.baseline import (
    baseline_basis,
    has_standard,
    progress_series,
    standard_request,
    value_of,
    window_request,
    window_value,
)
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative
from kpi.people import members, team_of
from kpi.periods import Window, period_last_day, period_start
from kpi.schema import Grain
from kpi.views.context import baseline_window
from kpi.views.levers import _target_changes, levers_weeks


@dataclass(frozen=True)
class Pace:
    """A lever in the period to date against the goal for the whole period."""

    lever: str
    label: str
    unit: str
    grain: Grain
    period: Window
    elapsed_days: int
    active_weeks: float  # rep-weeks the rep was active so far in the period
    actual: float
    goal_rate: float | None  # per rep-week
    goal_kind: str  # 'target' or 'own baseline'
    own_rate: float | None

    @property
    def goal(self) -> float | None:
        """The goal for the whole period: active weeks so far plus the days still to come."""
        remaining = (self.period.days - self.elapsed_days) / 7
        return None if self.goal_rate is None else self.goal_rate * (self.active_weeks + remaining)

    @property
    def expected_by_now(self) -> float | None:
        return None if self.goal_rate is None else self.goal_rate * self.active_weeks

    @property
    def more_to_stay_on_pace(self) -> float | None:
        """How many more the rep needs today to be where the straight path to the goal is."""
        need = self.expected_by_now
        return None if need is None else max(0.0, math.ceil(need - self.actual))

    @property
    def more_for_period(self) -> float | None:
        return None if self.goal is None else max(0.0, math.ceil(self.goal - self.actual))


def rep_scope(scope: Scope) -> Scope:
    """The one rep a rep's view reads: the viewer's own scope, or one that
    :func:`kpi.people.narrow` bounded for them (a manager's view: the days in their team)."""
    if scope.kind != "rep" or len(scope.ids) != 1:
        raise ValueError(f"one rep expected, got {scope}")
    return scope


def pace(engine: Engine, rep: Scope, levers: tuple[str, ...] | list[str], day: dt.date,
         initiative: Initiative | None = None,
         grains: tuple[Grain, ...] = ("week", "month", "quarter"),
         ) -> list[Pace]:
    """Each count lever this week, month and quarter to date against its goal for the period."""
    scope = rep_scope(rep)
    result = []
    counted = [lever for lever in levers if engine.catalog.get(lever).per_rep_week]
    periods = {g: Window(period_start(day, g), period_last_day(period_start(day, g), g))
               for g in grains}

    def to_date(lever: str, period: Window) -> MetricRequest:
        return MetricRequest.make(lever, grain="total", scope=scope, date_from=period.start,
                                  date_to=day)

    base = baseline_window(initiative, day)
    basis = baseline_basis(engine, base, scope, day)
    own_kind = "own baseline" if basis.scope is None or basis.own else "team baseline"
    # every lever's standard is the initiative-wide one when enough reps are behind it
    standard = initiative if initiative is not None and has_standard(engine, initiative) else None
    asked = [to_date(lever, p) for lever in counted for p in periods.values()]
    if basis.scope is not None:
        asked += [window_request(lever, base.start, base.end, basis.scope) for lever in counted]
    if standard is not None:
        asked += [standard_request(standard, lever) for lever in counted]
    answer = engine.answers(asked)  # one query
    for lever in counted:
        metric = engine.catalog.get(lever)
        own = (None if basis.scope is None else
               value_of(answer[window_request(lever, base.start, base.end, basis.scope)]))
        target = None
        change = _target_changes(initiative, lever, [day])[0]
        if initiative is not None and change is not None:
            reference = own if standard is None else value_of(
                answer[standard_request(standard, lever)])
            target = None if reference is None else reference * (1.0 + change)
        for grain, period in periods.items():
            frame = answer[to_date(lever, period)]
            actual = float(frame["numerator"].iloc[0]) if len(frame) else 0.0
            active = float(frame["denominator"].iloc[0]) if len(frame) else 0.0
            goal, kind = (target, "target") if target is not None else (own, own_kind)
            result.append(Pace(lever, metric.label, metric.unit, grain, period,
                               (day - period.start).days + 1, active, actual, goal, kind, own))
    return result


@dataclass(frozen=True)
class Streak:
    lever: str
    label: str
    weeks: int
    at_or_above: bool
    goal_kind: str


def streaks(engine: Engine, rep: Scope, levers: tuple[str, ...] | list[str], day: dt.date,
            initiative: Initiative | None = None) -> list[Streak]:
    """How many complete weeks in a row each lever has been at/above (or below) its goal."""
    last_complete = period_start(day, "week") - dt.timedelta(days=1)
    basis = baseline_basis(engine, baseline_window(initiative, day), rep_scope(rep), day)
    baseline_kind = "own baseline" if basis.own else "team baseline"
    result = []
    weekly = levers_weeks(engine, levers, rep_scope(rep), last_complete, 26, initiative)
    for lever, frame in weekly.items():
        scored = frame.dropna(subset=["score"]).sort_values("period")
        if scored.empty:
            continue
        above = (scored["score"] >= 1.0).tolist()
        run = next((i for i, a in enumerate(reversed(above)) if a != above[-1]), len(above))
        kind = "target" if scored["target"].notna().iloc[-1] else baseline_kind
        result.append(Streak(lever, engine.catalog.get(lever).label, run, above[-1], kind))
    return result


def rep_trend(engine: Engine, rep: Scope, lever: str, grain: Grain, window: Window,
              initiative: Initiative | None = None) -> pd.DataFrame:
    """One rep's lever per period: value, own baseline (and band), and the initiative's target."""
    scope = rep_scope(rep)
    if initiative is None:
        frame = engine.run(MetricRequest.make(lever, grain=grain, scope=scope,
                                              date_from=window.start, date_to=window.end))
        base = baseline_window(None, window.end)
        basis = baseline_basis(engine, base, scope, window.end)
        frame["baseline"] = None if basis.scope is None else window_value(
            engine, lever, base.start, base.end, basis.scope)
        frame["baseline_of"] = basis.note or "own"
        frame["team_average"] = team_average(engine, scope, lever, grain, window)
        return frame
    frame = progress_series(engine, initiative, lever, grain, window.end, scope, window.start)
    frame["team_average"] = team_average(engine, scope, lever, grain, window)
    return frame.drop(columns=["pace"])


def team_average(engine: Engine, rep: Scope, lever: str, grain: Grain,
                 window: Window) -> list[float | None] | None:
    """The team's value per period beside one rep: the rep's current team (a manager's view:
    the manager's team), one aggregate number each, and only in periods where at least
    3 other reps were active in it (with fewer, the average and the rep's
    own number would give a colleague's away; see :mod:`kpi.disclosure`)."""
    scope = rep_scope(rep)
    rep_id = scope.ids[0]
    team = team_of(engine.store, rep_id, window.end)
    if scope.within and team not in scope.within:
        team = scope.within[0]
    if team is None:
        return None
    request = MetricRequest.make(lever, grain=grain, scope=Scope.teams(team),
                                 date_from=window.start, date_to=window.end)
    frame = engine.run(request)
    others = _others_active(engine, team, rep_id, lever, grain, window)
    fewest = AGGREGATES["team_average"].min_group - 1  # the others behind the average
    return [None if pd.isna(v) or others.get(p, 0) < fewest else float(v)
            for p, v in zip(frame["period"], frame["value"], strict=True)]


def _others_active(engine: Engine, team: str, rep_id: str, lever: str, grain: Grain,
                   window: Window) -> dict[dt.date, int]:
    """Per period: how many reps other than ``rep_id`` were active in the team."""
    counted = lever if engine.catalog.get(lever).per_rep_week else "activities"
    days = engine.run(MetricRequest.make(counted, grain=grain, by=["rep"],
                                         scope=Scope.teams(team), date_from=window.start,
                                         date_to=window.end))
    names = {m.name for m in members(engine.store, Scope.reps(rep_id), window.start, window.end)}
    active = days[(days["denominator"] > 0) & ~days["rep"].isin(names)]
    counts: dict[dt.date, int] = active.groupby("period")["rep"].nunique().to_dict()
    return counts
