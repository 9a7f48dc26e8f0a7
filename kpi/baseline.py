"""Baselines, change since rollout and pacing against (re-calibrated) targets.

The baseline is the metric over the ``baseline_weeks`` before the rollout, computed as one ratio of
sums over the whole window. "Current" is the latest complete weeks after the rollout, as many as
the baseline has (like with like); until one complete week has passed it is "too early to tell".
Counts and sums compare as rates per week, so windows of different lengths never meet as totals.
Every comparison reads the same scope on both sides; a rep with too few active weeks inside the
baseline is compared with their team's baseline instead of their own (and is told so).
Targets of per-rep-week levers are one standard for everyone: the initiative-wide baseline raised
by the target change. Other targets raise the scope's own baseline.
Pacing assumes a straight path from the baseline at rollout to the target at the target date.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from kpi.catalog import Metric
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative
from kpi.people import active_days, active_days_of, members, team_name, team_of, teams_on
from kpi.periods import Window, last_complete_day, period_last_day
from kpi.schema import Grain

MIN_OWN_BASELINE_SHARE = 0.5  # a rep's own baseline needs this share of its days employed


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
    window: Window | None = None  # the current window (None: too early to tell)
    baseline_window: Window | None = None
    per_week: bool = False  # baseline and current are rates per week (counts and sums)
    note: str | None = None  # why a number is missing, or whose baseline is used


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
    if baseline is None or current is None or target is None or target == baseline:
        return None
    return (current - baseline) / (target - baseline)


def expected_on(initiative: Initiative, metric_id: str, baseline: float | None,
                day: dt.date) -> float | None:
    """Where the linear path to the target in effect on ``day`` says the metric should be."""
    target = initiative.target_on(metric_id, day)
    return None if target is None else _pace(initiative, baseline, target.change_pct, day)


def window_value(engine: Engine, metric_id: str, start: dt.date, end: dt.date,
                 scope: Scope) -> float | None:
    """The metric over one whole window, as a single ratio of sums."""
    if end < start:
        return None
    return value_of(engine.run(window_request(metric_id, start, end, scope)))


def window_request(metric_id: str, start: dt.date, end: dt.date, scope: Scope) -> MetricRequest:
    """The request :func:`window_value` answers from."""
    return MetricRequest.make(metric_id, grain="total", date_from=start, date_to=end, scope=scope)


def value_of(frame: pd.DataFrame) -> float | None:
    """The one value of a grain-total table (None when it is missing)."""
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


@dataclass(frozen=True)
class Basis:
    """Whose baseline a scope is compared with: its own, or (a new rep) their team's."""

    scope: Scope | None  # None: no baseline to compare with (said in ``note``)
    note: str | None = None  # said next to the number when it is not the scope's own

    @property
    def own(self) -> bool:
        return self.note is None


def baseline_basis(engine: Engine, window: Window, scope: Scope, day: dt.date) -> Basis:
    """The scope itself, unless it is one rep employed for less than half of ``window``: then
    the team they are in on ``day`` (a new hire's ramp-up weeks are not their standard)."""
    if scope.kind != "rep" or len(scope.ids) != 1:
        return Basis(scope)
    rep_id = scope.ids[0]
    days = active_days(engine.store, rep_id, window.start, window.end, scope.within)
    return _basis(engine, window, scope, day, days)


def baseline_bases(engine: Engine, window: Window, rep_ids: list[str], within: tuple[str, ...],
                   day: dt.date) -> list[Basis]:
    """:func:`baseline_basis` of each rep's scope (``Scope("rep", (rep,), within)``), their
    active days read at once."""
    days = active_days_of(engine.store, rep_ids, window.start, window.end, within)
    # each team's reps counted and the team named once, however many of its reps are new
    size = functools.cache(functools.partial(_team_size, engine, window=window))
    name = functools.cache(functools.partial(team_name, engine.store))
    short = [r for r in rep_ids if not _has_own(days.get(r, 0), window)]
    teams = teams_on(engine.store, short, day)  # of the reps compared with a team: one query
    return [_basis(engine, window, Scope("rep", (r,), within), day, days.get(r, 0), size,
                   teams, name) for r in rep_ids]


def _team_size(engine: Engine, team: str, window: Window) -> int:
    return len(members(engine.store, Scope.teams(team), window.start, window.end))


def _has_own(days: int, window: Window) -> bool:
    """Whether a rep employed ``days`` of ``window`` has a baseline of their own."""
    return days >= MIN_OWN_BASELINE_SHARE * window.days


def _basis(engine: Engine, window: Window, scope: Scope, day: dt.date, days: int,
           size: Callable[[str], int] | None = None,
           teams: Mapping[str, str] | None = None,
           name: Callable[[str], str] | None = None) -> Basis:
    """``teams``: the reps' teams on ``day`` when already read (:func:`teams_on`; a rep it
    leaves out was never assigned), else the rep's is read here; ``size`` and ``name`` count and
    name a team when shared by many reps' calls."""
    rep_id = scope.ids[0]
    if _has_own(days, window):
        return Basis(scope)
    weeks = f"{days / 7:.1f}".removesuffix(".0")
    short = f"active {weeks} of the {window.days // 7} baseline weeks"
    team = teams.get(rep_id) if teams is not None else team_of(engine.store, rep_id, day)
    if scope.within and team not in scope.within:  # a manager compares with their own team
        team = scope.within[0]
    # no team, or one too small (a small team's baseline would be a colleague's)
    if team is None or ((size(team) if size else _team_size(engine, team, window))
                        < AGGREGATES["team_baseline"].min_group):
        return Basis(None, f"not enough baseline: {short}")
    called = name(team) if name else team_name(engine.store, team)
    return Basis(Scope.teams(team), f"team baseline ({called}): {short}")


def rate(value: float | None, days: int, per_week: bool) -> float | None:
    """A window's value as a rate per week when it grows with the window's length."""
    if value is None or not per_week or days <= 0:
        return value
    return value / days * 7


def current_window(initiative: Initiative, as_of: dt.date) -> Window | None:
    """The latest complete weeks after the rollout, as many as the baseline has; None until a
    complete week has passed (the rollout day alone is not a trend)."""
    end = last_complete_day(as_of, "week")
    start = max(initiative.rollout_date,
                end - dt.timedelta(weeks=initiative.baseline_weeks) + dt.timedelta(days=1))
    return Window(start, end) if (end - start).days + 1 >= 7 else None


def standard_baseline(engine: Engine, initiative: Initiative, metric_id: str,
                      own: float | None) -> float | None:
    """What a target raises: the initiative-wide baseline for per-rep-week levers (one standard
    for everyone), the compared scope's own baseline for anything else — and for levers too when
    the initiative's teams held too few reps in its baseline weeks for one standard (it would be
    the mean of a viewer's few colleagues)."""
    if not one_standard(engine, initiative, metric_id):
        return own
    return value_of(engine.run(standard_request(initiative, metric_id)))


def standard_request(initiative: Initiative, metric_id: str) -> MetricRequest:
    """The initiative-wide standard's request: its teams over its baseline weeks."""
    return window_request(metric_id, initiative.baseline_start, initiative.baseline_end,
                          initiative_scope(initiative))


def one_standard(engine: Engine, initiative: Initiative, metric_id: str) -> bool:
    """Whether a target on ``metric_id`` raises one initiative-wide baseline (a per-rep-week
    lever with enough reps behind it) rather than each scope's own."""
    return engine.catalog.get(metric_id).per_rep_week and has_standard(engine, initiative)


def has_standard(engine: Engine, initiative: Initiative) -> bool:
    """Whether the initiative's teams held enough reps in its baseline weeks for one standard."""
    behind = members(engine.store, initiative_scope(initiative), initiative.baseline_start,
                     initiative.baseline_end)
    return len(behind) >= AGGREGATES["lever_standard"].min_group


def progress(engine: Engine, initiative: Initiative, metric_id: str, as_of: dt.date,
             scope: Scope | None = None) -> Progress:
    """Baseline, current, change, target, attainment and pacing of one metric on ``as_of``."""
    return progress_many(engine, initiative, [metric_id], as_of, scope)[0]


def progress_many(engine: Engine, initiative: Initiative, metric_ids: Sequence[str],
                  as_of: dt.date, scope: Scope | None = None) -> list[Progress]:
    """:func:`progress` of each metric, their numbers read in one query."""
    scope = initiative_scope(initiative, scope)
    base = Window(initiative.baseline_start, initiative.baseline_end)
    basis = baseline_basis(engine, base, scope, as_of)
    standard = (any(engine.catalog.get(m).per_rep_week for m in metric_ids)
                and has_standard(engine, initiative))
    plans = [_ProgressPlan.of(engine.catalog.get(m), initiative, as_of, scope, basis, standard)
             for m in metric_ids]
    answer = engine.answers(r for plan in plans for r in plan.requests())
    return [plan.progress(initiative, as_of, basis, answer) for plan in plans]


@dataclass(frozen=True)
class _ProgressPlan:
    """The windows one metric's progress reads (None: not read), and the arithmetic on them."""

    metric: Metric
    base: Window
    window: Window | None  # the current weeks; None until a complete week has passed
    asked: dict[str, MetricRequest | None]  # baseline, current, since_rollout, standard

    @classmethod
    def of(cls, metric: Metric, initiative: Initiative, as_of: dt.date, scope: Scope,
           basis: Basis, standard: bool) -> _ProgressPlan:
        base = Window(initiative.baseline_start, initiative.baseline_end)
        window = current_window(initiative, as_of)
        own = (basis.scope if basis.scope is not None
               and (basis.own or not metric.grows_with_period) else None)  # no team total for a rep
        wanted = {"baseline": (base, own), "current": (window, scope),
                  "since_rollout": (Window(initiative.rollout_date, as_of), scope)}
        asked = {name: None if w is None or s is None or w.end < w.start
                 else window_request(metric.id, w.start, w.end, s)
                 for name, (w, s) in wanted.items()}
        asked["standard"] = (standard_request(initiative, metric.id)
                             if metric.per_rep_week and standard else None)
        return cls(metric, base, window, asked)

    def requests(self) -> list[MetricRequest]:
        return [r for r in self.asked.values() if r is not None]

    def progress(self, initiative: Initiative, as_of: dt.date, basis: Basis,
                 answer: Mapping[MetricRequest, pd.DataFrame]) -> Progress:
        def value(name: str) -> float | None:
            request = self.asked[name]
            return None if request is None else value_of(answer[request])

        metric, window, base = self.metric, self.window, self.base
        per_week = metric.grows_with_period
        baseline = rate(value("baseline"), base.days, per_week)
        current = None if window is None else rate(value("current"), window.days, per_week)
        target = initiative.target_on(metric.id, as_of)
        reference = value("standard") if self.asked["standard"] is not None else baseline
        goal = target_value(reference, target.change_pct if target else None)
        expected = expected_on(initiative, metric.id, reference, as_of)
        sign = 1.0 if metric.direction == "up" else -1.0
        note = basis.note
        if window is None:
            week_on = initiative.rollout_date + dt.timedelta(days=6)
            first = week_on + dt.timedelta(days=6 - week_on.weekday())  # the Sunday that ends it
            note = f"too early to tell: the first complete week after the rollout ends {first:%a %d %b}"
        return Progress(
            metric_id=metric.id, baseline=baseline, current=current,
            since_rollout=value("since_rollout"),
            change_pct=relative_change(baseline, current),
            target_change_pct=target.change_pct if target else None, target_value=goal,
            attainment=attainment(reference, current, goal), expected_value=expected,
            on_pace=None if current is None or expected is None else sign * (current - expected) >= 0,
            window=window, baseline_window=base, per_week=per_week, note=note,
        )


def baseline_for_days(engine: Engine, metric_id: str, baseline: Window, scope: Scope,
                      days: Window) -> float | None:
    """What the baseline says the days of ``days`` would show if nothing had changed.

    Each day of ``days`` counts as the baseline's average for its weekday (the baseline is whole
    weeks), so three days Monday to Wednesday meet the baseline's Mondays to Wednesdays, not a
    whole week scaled down. Ratios are the sum of those numerators over the sum of those
    denominators; medians are the baseline's level.
    """
    metric = engine.catalog.get(metric_id)
    return baseline_for_days_of(metric, engine.run(baseline_days_request(metric, baseline, scope)),
                                days)


def baseline_days_request(metric: Metric, baseline: Window, scope: Scope) -> MetricRequest:
    """What :func:`baseline_for_days` reads: the baseline by day (ratios and additive metrics),
    or as one window (medians)."""
    if not (metric.is_ratio or metric.grows_with_period):
        return window_request(metric.id, baseline.start, baseline.end, scope)
    return MetricRequest.make(metric.id, grain="day", scope=scope, date_from=baseline.start,
                              date_to=baseline.end)


def baseline_for_days_of(metric: Metric, frame: pd.DataFrame, days: Window) -> float | None:
    """:func:`baseline_for_days` from the table of :func:`baseline_days_request`."""
    if not (metric.is_ratio or metric.grows_with_period):
        return value_of(frame)
    if frame.empty:
        return None
    weekday = pd.to_datetime(frame["period"]).dt.day_of_week
    columns = ["numerator", "denominator"] if metric.is_ratio else ["value"]
    means = frame[columns].apply(pd.to_numeric).fillna(0.0).groupby(weekday).mean()
    wanted = pd.Series(pd.date_range(days.start, days.end, freq="D").day_of_week).value_counts()
    expected = means.reindex(wanted.index).fillna(0.0).mul(wanted, axis=0).sum()
    if not metric.is_ratio:
        return float(expected["value"])
    return None if expected["denominator"] == 0 else float(
        expected["numerator"] / expected["denominator"])


@dataclass(frozen=True)
class BaselineStats:
    """The baseline window of one metric: its level and how much its weeks varied."""

    level: float | None  # the whole window as one value (ratio of sums; total for additive)
    weekly_mean: float | None
    weekly_sd: float | None
    additive: bool  # counts and sums grow with the period; ratios and medians do not

    def for_days(self, days: int) -> tuple[float | None, float | None, float | None]:
        """Baseline, band low and band high for a window of ``days`` days.

        Additive metrics scale with the window (a quarter holds 13 baseline weeks); the band is
        one standard deviation of what a window of that length would show if nothing changed.
        """
        weeks = max(days, 1) / 7
        if self.additive:
            if self.weekly_mean is None:
                return None, None, None
            centre, spread = self.weekly_mean * weeks, (self.weekly_sd or 0.0) * math.sqrt(weeks)
        else:
            if self.level is None:
                return None, None, None
            centre, spread = self.level, (self.weekly_sd or 0.0) / math.sqrt(weeks)
        return centre, centre - spread, centre + spread


def baseline_stats(engine: Engine, initiative: Initiative, metric_id: str,
                   scope: Scope) -> BaselineStats:
    requests = baseline_stats_requests(initiative, metric_id, scope)
    answer = engine.answers(requests)
    return baseline_stats_of(engine.catalog.get(metric_id), *(answer[r] for r in requests))


def baseline_stats_requests(initiative: Initiative, metric_id: str,
                            scope: Scope) -> tuple[MetricRequest, MetricRequest]:
    """What :func:`baseline_stats` reads: the baseline by week, and as one window."""
    weekly = MetricRequest.make(metric_id, grain="week", scope=scope,
                                date_from=initiative.baseline_start,
                                date_to=initiative.baseline_end)
    return weekly, window_request(metric_id, initiative.baseline_start, initiative.baseline_end,
                                  scope)


def baseline_stats_of(metric: Metric, weekly: pd.DataFrame, whole: pd.DataFrame) -> BaselineStats:
    """:func:`baseline_stats` from the tables of :func:`baseline_stats_requests`."""
    values = pd.to_numeric(weekly["value"], errors="coerce").dropna()
    return BaselineStats(
        level=value_of(whole),
        weekly_mean=float(values.mean()) if len(values) else None,
        weekly_sd=float(values.std()) if len(values) > 1 else None,
        additive=metric.grows_with_period,
    )


def progress_series(engine: Engine, initiative: Initiative, metric_id: str, grain: Grain,
                    as_of: dt.date, scope: Scope | None = None,
                    date_from: dt.date | None = None) -> pd.DataFrame:
    """Per period from ``date_from`` (default: the baseline start) up to ``as_of``, in ``scope``
    (the caller chooses it: the chart shows the scope of the card above it; by default the
    initiative's teams).

    Columns: the metric's own (value, is_partial, ...), ``baseline`` and its band (``band_lo``,
    ``band_hi``) for the days each period covers, ``target`` as steps where it was re-calibrated,
    the linear ``pace`` path, ``after_rollout`` and ``baseline_of`` (whose baseline it is).
    """
    scope = scope or initiative_scope(initiative)
    start = date_from or initiative.baseline_start
    metric = engine.catalog.get(metric_id)
    series = MetricRequest.make(metric_id, grain=grain, scope=scope, date_from=start,
                                date_to=as_of)
    base = Window(initiative.baseline_start, initiative.baseline_end)
    basis = baseline_basis(engine, base, scope, as_of)
    additive = metric.grows_with_period
    own = None if basis.scope is None or (not basis.own and additive) else basis.scope  # a team's
    stats_requests = () if own is None else baseline_stats_requests(initiative, metric_id, own)
    standard = standard_request(initiative, metric_id) if one_standard(
        engine, initiative, metric_id) else None
    answer = engine.answers([series, *stats_requests,  # the chart's numbers in one query
                             *([standard] if standard else [])])
    frame = answer[series]
    stats = (BaselineStats(None, None, None, additive) if not stats_requests  # total is no rep's
             else baseline_stats_of(metric, *(answer[r] for r in stats_requests)))
    ends = [_period_last_day(p, grain, as_of) for p in frame["period"]]
    days = [(e - max(p, start)).days + 1 for p, e in zip(frame["period"], ends, strict=True)]
    bands = [stats.for_days(n) for n in days]
    frame["baseline"] = [b[0] for b in bands]
    frame["band_lo"] = [b[1] for b in bands]
    frame["band_hi"] = [b[2] for b in bands]
    after = [e >= initiative.rollout_date for e in ends]
    targets = [initiative.target_on(metric_id, e) if a else None for e, a in zip(ends, after, strict=True)]
    level = value_of(answer[standard]) if standard else None
    refs = [level if standard else b[0] for b in bands]
    frame["target"] = [target_value(r, t.change_pct) if t else None
                       for r, t in zip(refs, targets, strict=True)]
    frame["pace"] = [_pace(initiative, r, t.change_pct, e) if t else None
                     for r, t, e in zip(refs, targets, ends, strict=True)]
    frame["after_rollout"] = after
    frame["baseline_of"] = basis.note or "own"
    return frame


def _pace(initiative: Initiative, baseline: float | None, change_pct: float,
          day: dt.date) -> float | None:
    if baseline is None:
        return None
    return baseline * (1.0 + change_pct * share_of_path(initiative.rollout_date,
                                                        initiative.target_date, day))


def report(engine: Engine, initiative: Initiative, as_of: dt.date,
           scope: Scope | None = None) -> dict[str, Any]:
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


def relative_change(baseline: float | None, current: float | None) -> float | None:
    """current / baseline - 1, or None when either is missing or the baseline is 0."""
    if baseline is None or current is None or baseline == 0:
        return None
    return current / baseline - 1.0


def _period_last_day(period: dt.date, grain: Grain, as_of: dt.date) -> dt.date:
    return as_of if grain == "total" else min(period_last_day(period, grain), as_of)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
