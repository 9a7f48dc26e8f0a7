"""Baselines, change since rollout and pacing against (re-calibrated) targets.

The baseline is the metric over the ``baseline_weeks`` before the rollout, computed as one ratio of
sums over the whole window. "Current" is the same number of weeks up to ``as_of`` (like with like).
Pacing assumes a straight path from the baseline at rollout to the target at the target date.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

import pandas as pd

from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative


@dataclass(frozen=True)
class Progress:
    """Where one targeted metric stands on ``as_of``."""

    metric_id: str
    baseline: float | None
    current: float | None
    since_rollout: float | None
    change_pct: float | None
    target_change_pct: float | None
    target_value: float | None
    attainment: float | None
    expected_value: float | None
    on_pace: bool | None


def share_of_path(start: dt.date, end: dt.date, day: dt.date) -> float:
    """How far along a straight path from ``start`` to ``end`` we are on ``day`` (0..1)."""
    total = (end - start).days
    return min(max((day - start).days / total, 0.0), 1.0) if total > 0 else 1.0


def target_value(baseline: float | None, change_pct: float | None) -> float | None:
    if baseline is None or change_pct is None:
        return None
    return baseline * (1.0 + change_pct)


def attainment(baseline: float | None, current: float | None, target: float | None) -> float | None:
    """Share of the targeted change achieved: 0 = still at baseline, 1 = target reached."""
    if None in (baseline, current, target) or target == baseline:
        return None
    return (current - baseline) / (target - baseline)


def expected_on(initiative: Initiative, metric_id: str, baseline: float | None,
                day: dt.date) -> float | None:
    """Where the linear path to the target in effect on ``day`` says the metric should be."""
    target = initiative.target_on(metric_id, day)
    if target is None or baseline is None:
        return None
    share = share_of_path(initiative.rollout_date, initiative.target_date, day)
    return baseline * (1.0 + target.change_pct * share)


def window_value(engine: Engine, metric_id: str, start: dt.date, end: dt.date,
                 scope: Scope) -> float | None:
    """The metric over one whole window, as a single ratio of sums."""
    if end < start:
        return None
    frame = engine.run(MetricRequest.make(metric_id, grain="total", date_from=start, date_to=end,
                                          scope=scope))
    value = frame["value"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else float(value)


def initiative_scope(initiative: Initiative, scope: Scope | None = None) -> Scope:
    """The initiative's teams, narrowed to what the caller may see (never widened)."""
    teams = Scope.teams(*initiative.team_ids) if initiative.team_ids else Scope.everyone()
    if scope is None or scope.kind == "all":
        return teams
    if scope.kind == "team" and teams.kind == "team":
        return Scope.teams(*[t for t in scope.ids if t in teams.ids])
    return scope


def progress(engine: Engine, initiative: Initiative, metric_id: str, as_of: dt.date,
             scope: Scope | None = None) -> Progress:
    """Baseline, current, change, target, attainment and pacing of one metric on ``as_of``."""
    scope = initiative_scope(initiative, scope)
    baseline = window_value(engine, metric_id, initiative.baseline_start,
                            initiative.baseline_end, scope)
    current_start = max(initiative.rollout_date,
                        as_of - dt.timedelta(weeks=initiative.baseline_weeks) + dt.timedelta(days=1))
    current = window_value(engine, metric_id, current_start, as_of, scope)
    target = initiative.target_on(metric_id, as_of)
    goal = target_value(baseline, target.change_pct if target else None)
    expected = expected_on(initiative, metric_id, baseline, as_of)
    metric = engine.catalog.get(metric_id)
    sign = 1.0 if metric.direction == "up" else -1.0
    return Progress(
        metric_id=metric_id, baseline=baseline, current=current,
        since_rollout=window_value(engine, metric_id, initiative.rollout_date, as_of, scope),
        change_pct=_change(baseline, current),
        target_change_pct=target.change_pct if target else None, target_value=goal,
        attainment=attainment(baseline, current, goal), expected_value=expected,
        on_pace=None if None in (current, expected) else sign * (current - expected) >= 0,
    )


def progress_series(engine: Engine, initiative: Initiative, metric_id: str, grain: str,
                    as_of: dt.date, scope: Scope | None = None) -> pd.DataFrame:
    """Per period from the baseline start: value, baseline, target (steps) and the pace path."""
    scope = initiative_scope(initiative, scope)
    frame = engine.run(MetricRequest.make(metric_id, grain=grain, scope=scope,
                                          date_from=initiative.baseline_start, date_to=as_of))
    baseline = window_value(engine, metric_id, initiative.baseline_start,
                            initiative.baseline_end, scope)
    ends = [_period_last_day(p, grain, as_of) for p in frame["period"]]
    targets = [initiative.target_on(metric_id, d) if d >= initiative.rollout_date else None
               for d in ends]
    frame["baseline"] = baseline
    frame["target"] = [target_value(baseline, t.change_pct) if t else None for t in targets]
    frame["pace"] = [expected_on(initiative, metric_id, baseline, d)
                     if d >= initiative.rollout_date else None for d in ends]
    frame["after_rollout"] = [d >= initiative.rollout_date for d in ends]
    return frame


def report(engine: Engine, initiative: Initiative, as_of: dt.date,
           scope: Scope | None = None) -> dict:
    """The initiative card and the progress of each targeted metric, JSON-ready."""
    return {
        "initiative": initiative.name, "strategy": initiative.strategy,
        "tactics": initiative.tactics, "rollout_date": initiative.rollout_date.isoformat(),
        "baseline": [initiative.baseline_start.isoformat(), initiative.baseline_end.isoformat()],
        "target_date": initiative.target_date.isoformat(), "as_of": as_of.isoformat(),
        "teams": [{"team_id": t, "adopted_on": d.isoformat()} for t, d in initiative.teams],
        "metrics": [_clean(asdict(progress(engine, initiative, m, as_of, scope)))
                    for m in initiative.metric_ids()],
        "target_history": [
            {"metric_id": t.metric_id, "change_pct": t.change_pct,
             "effective_from": t.effective_from.isoformat(), "note": t.note}
            for m in initiative.metric_ids() for t in initiative.target_history(m)
        ],
        "reviews": [{"date": r.review_date.isoformat(), "learned": r.learned, "author": r.author}
                    for r in initiative.reviews],
    }


def _change(baseline: float | None, current: float | None) -> float | None:
    if baseline is None or current is None or baseline == 0:
        return None
    return current / baseline - 1.0


def _period_last_day(period: dt.date, grain: str, as_of: dt.date) -> dt.date:
    if grain == "total":
        return as_of
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
            "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
            "year": pd.DateOffset(years=1)}[grain]
    return min((pd.Timestamp(period) + step).date() - dt.timedelta(days=1), as_of)


def _clean(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
