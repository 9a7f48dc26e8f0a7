"""Levers against the initiative's targets and the reps' own baselines, week by week."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi.baseline import (
    baseline_bases,
    has_standard,
    standard_baseline,
    standard_request,
    value_of,
    window_request,
)
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative
from kpi.people import members
from kpi.periods import Window, period_last_day, period_start
from kpi.views.context import baseline_window


def lever_target(engine: Engine, initiative: Initiative | None, lever: str, day: dt.date,
                 own: float | None = None) -> float | None:
    """The initiative's goal for a lever on ``day``: the initiative-wide baseline x (1 + change),
    or, where there is no one standard (a rate, or too few reps behind it), ``own`` (the
    viewer's own baseline) x (1 + change), as :func:`kpi.baseline.progress` has it."""
    return lever_targets(engine, initiative, lever, [day], own)[0]


def lever_targets(engine: Engine, initiative: Initiative | None, lever: str,
                  days: list[dt.date], own: float | None = None) -> list[float | None]:
    """:func:`lever_target` for many days, reading the baseline once."""
    changes = _target_changes(initiative, lever, days)
    if initiative is None or all(c is None for c in changes):
        return [None] * len(days)
    baseline = standard_baseline(engine, initiative, lever, own)
    return [None if c is None or baseline is None else baseline * (1.0 + c) for c in changes]


def _target_changes(initiative: Initiative | None, lever: str,
                   days: list[dt.date]) -> list[float | None]:
    """The target change in effect on each day (none before the rollout)."""
    if initiative is None:
        return [None] * len(days)
    versions = [initiative.target_on(lever, d) if d >= initiative.rollout_date else None
                for d in days]
    return [None if v is None else v.change_pct for v in versions]


def own_baselines(engine: Engine, lever: str, rep_ids: list[str], window: Window,
                  day: dt.date | None = None, within: tuple[str, ...] = ()) -> dict[str, float]:
    """Each rep's own value of a lever over the baseline window, keyed by rep name (with
    ``within``, only from the days each rep was in those teams).

    A rep active for less than half of the window gets their team's value instead (see
    :func:`kpi.baseline.baseline_basis`): a new hire's ramp-up weeks are not their standard.
    """
    plan = _OwnBaselines(engine, rep_ids, window, day, within)
    return plan.of(lever, engine.answers(plan.requests(lever)))  # one query


class _OwnBaselines:
    """The reps' own baselines of any lever: who they are and whose rows stand for each
    (worked out once), the requests a lever needs, and the values from their answers."""

    def __init__(self, engine: Engine, rep_ids: list[str], window: Window, day: dt.date | None,
                 within: tuple[str, ...]) -> None:
        self.rep_ids, self.window, self.within = rep_ids, window, within
        self.group = members(engine.store, Scope.reps(*rep_ids), window.start, window.end) \
            if rep_ids else []
        self.bases = baseline_bases(engine, window, [m.rep_id for m in self.group], within,
                                    day or window.end) if rep_ids else []

    def _by_rep(self, lever: str) -> MetricRequest:
        return MetricRequest.make(lever, grain="total", by=["rep"],
                                  scope=Scope("rep", tuple(self.rep_ids), self.within),
                                  date_from=self.window.start, date_to=self.window.end)

    def requests(self, lever: str) -> list[MetricRequest]:
        if not self.rep_ids:
            return []
        return [self._by_rep(lever), *(
            window_request(lever, self.window.start, self.window.end, b.scope)
            for b in self.bases if b.scope is not None and not b.own)]

    def of(self, lever: str, answer: dict[MetricRequest, pd.DataFrame]) -> dict[str, float]:
        if not self.rep_ids:
            return {}
        frame = answer[self._by_rep(lever)]
        names = dict(zip(frame["rep"], frame["value"], strict=True))
        result = {}
        for member, basis in zip(self.group, self.bases, strict=True):
            if basis.scope is None:
                continue
            value = names.get(member.name) if basis.own else value_of(answer[window_request(
                lever, self.window.start, self.window.end, basis.scope)])
            if value is not None and pd.notna(value):
                result[member.name] = float(value)
        return result


def lever_weeks(engine: Engine, lever: str, scope: Scope, day: dt.date, weeks: int,
                initiative: Initiative | None = None, against: str = "target") -> pd.DataFrame:
    """Rep x week: value, target, own baseline and ``score``: value / goal, where the goal is the
    target (the own baseline where there is no target), or with ``against='own'`` the rep's own
    baseline.

    Weeks in which a rep was not active inside the scope (joined later, moved teams) are left
    out rather than shown as zero.
    """
    return levers_weeks(engine, [lever], scope, day, weeks, initiative, against)[lever]


def levers_weeks(engine: Engine, levers: tuple[str, ...] | list[str], scope: Scope,
                 day: dt.date, weeks: int, initiative: Initiative | None = None,
                 against: str = "target") -> dict[str, pd.DataFrame]:
    """:func:`lever_weeks` of several levers: their weeks and own baselines in one query."""
    window = Window(period_start(day, "week") - dt.timedelta(weeks=weeks - 1), day)
    weekly = {lever: MetricRequest.make(lever, grain="week", by=["rep"], scope=scope,
                                        date_from=window.start, date_to=window.end)
              for lever in levers}
    ids = [m.rep_id for m in members(engine.store, scope, window.start, window.end)]
    within = scope.ids if scope.kind == "team" else scope.within
    own = _OwnBaselines(engine, ids, baseline_window(initiative, day), day, within)
    # the levers whose targets raise one initiative-wide standard: read in the same query
    targeted = [] if initiative is None else [
        lever for lever in levers
        if lever in initiative.metric_ids() and engine.catalog.get(lever).per_rep_week]
    standards: dict[str, MetricRequest] = {}
    if initiative is not None and targeted and has_standard(engine, initiative):
        standards = {lever: standard_request(initiative, lever) for lever in targeted}
    answer = engine.answers([*weekly.values(), *standards.values(),
                             *(r for lever in levers for r in own.requests(lever))])
    result = {}
    for lever in levers:
        frame = answer[weekly[lever]].copy()
        if "denominator" in frame:
            frame = frame[frame["denominator"] > 0].copy()
        own_baseline = frame["rep"].map(own.of(lever, answer))
        standard = value_of(answer[standards[lever]]) if lever in standards else None
        frame["target"] = _week_targets(initiative, lever, frame["period"], own_baseline,
                                        lever in standards, standard)
        frame["own_baseline"] = own_baseline
        goal = frame["own_baseline"] if against == "own" else frame["target"].where(
            frame["target"].notna(), frame["own_baseline"])
        frame["score"] = frame["value"] / goal.where(goal > 0)
        result[lever] = frame.reset_index(drop=True)
    return result


def _week_targets(initiative: Initiative | None, lever: str, weeks: pd.Series, own: pd.Series,
                  one: bool, standard: float | None) -> list[float | None]:
    """Each rep-week's target: the initiative-wide ``standard`` raised for everyone (``one``),
    or each rep's own baseline raised."""
    changes = _target_changes(initiative, lever, [period_last_day(p, "week") for p in weeks])
    if initiative is None or all(c is None for c in changes):
        return [None] * len(weeks)
    references = [standard] * len(weeks) if one else own.tolist()
    return [None if c is None or r is None or pd.isna(r) else r * (1.0 + c)
            for c, r in zip(changes, references, strict=True)]


def off_track(engine: Engine, levers: tuple[str, ...] | list[str], scope: Scope, day: dt.date,
              initiative: Initiative | None = None, min_weeks: int = 2) -> pd.DataFrame:
    """Reps with a lever below target or below their own baseline in each of the last complete
    weeks, ``min_weeks`` or more in a row; worst first."""
    last_complete = period_start(day, "week") - dt.timedelta(days=1)
    rows = []
    for lever, frame in levers_weeks(engine, levers, scope, last_complete, 8, initiative).items():
        label = engine.catalog.get(lever).label
        for rep, weeks in frame.groupby("rep", sort=True):
            weeks = weeks.sort_values("period")
            run = _weeks_below(weeks)
            if run >= min_weeks:
                last = weeks.iloc[-1]
                rows.append({"rep": rep, "lever": label, "weeks_below": run,
                             "last_week": last["value"], "target": last["target"],
                             "own_baseline": last["own_baseline"],
                             "shortfall": _shortfall(last)})
    columns = ["rep", "lever", "weeks_below", "last_week", "target", "own_baseline", "shortfall"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["weeks_below", "shortfall"], ascending=False).reset_index(drop=True)


def _below(row: pd.Series) -> bool:
    value = row["value"]
    return any(pd.notna(goal) and value < goal for goal in (row["target"], row["own_baseline"]))


def _weeks_below(weeks: pd.DataFrame) -> int:
    run = 0
    for _, row in weeks.iloc[::-1].iterrows():
        if not _below(row):
            break
        run += 1
    return run


def _shortfall(row: pd.Series) -> float:
    """How far below the higher of its goals the last week was (share of that goal)."""
    goals = [g for g in (row["target"], row["own_baseline"]) if pd.notna(g) and g > 0]
    return 0.0 if not goals else max(0.0, 1.0 - row["value"] / max(goals))


