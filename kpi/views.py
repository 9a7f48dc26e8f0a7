"""What each role's page shows, computed by the engine; pages call these and only draw.

Every function takes the viewer's :class:`~kpi.engine.Scope` and passes it to each request, so
what a page can show is decided here, in the data layer. Levers are compared two ways: against
the initiative's target (the initiative-wide baseline per rep-week, raised by the target change in
effect that week: one standard for everyone) and against the rep's own baseline.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpi.baseline import (
    Basis,
    Progress,
    baseline_basis,
    baseline_for_days,
    initiative_scope,
    one_standard,
    progress,
    progress_series,
    relative_change,
    standard_baseline,
    window_value,
)
from kpi.catalog import Catalog
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative, list_initiatives
from kpi.people import members, team_of, teams, teams_of
from kpi.periods import (
    Window,
    period_last_day,
    period_start,
    period_to_date,
    quarter_ends,
    shift_years,
)

if TYPE_CHECKING:  # the insights import statsmodels and scipy: loaded when first used
    from kpi.insights.forecast import Forecast
    from kpi.insights.lead_lag import LeadLag
    from kpi.store import Store

# Which metrics each page shows is the catalog's `shown_in` (Catalog.shown(place, role)).
SEGMENT_DIMENSIONS = ("industry", "region", "motion", "product")
SEGMENT_METRICS = ("win_rate", "avg_deal_size", "sales_cycle_days", "gross_margin", "revenue")


def as_of(engine: Engine, today: dt.date | None = None) -> dt.date:
    """The day the views are 'now': today, or the last day with data if that is earlier."""
    return min(today or dt.date.today(), engine.data_range()[1])


def data_range(engine: Engine) -> tuple[dt.date, dt.date]:
    return engine.data_range()


def initiatives_for(engine: Engine, scope: Scope) -> list[Initiative]:
    """Initiatives a viewer may pick: those that cover the scope first (the first one is the
    default), newest rollout first. A rep or a manager sees only the initiatives that cover
    them; an executive also sees team initiatives, after the company-wide ones."""
    found = sorted(list_initiatives(engine.store), key=lambda i: i.rollout_date, reverse=True)
    covering = [i for i in found if covers(engine, i, scope)]
    if scope.kind != "all":
        return covering
    return covering + [i for i in found if i not in covering]


def covers(engine: Engine, initiative: Initiative, scope: Scope) -> bool:
    """Whether the initiative is about the scope: company-wide ones (no teams, or every team)
    cover everyone, a team initiative its teams and the reps who were in them since its
    baseline began."""
    if not initiative.team_ids:
        return True
    if scope.kind == "all":
        return {t for t, _ in teams(engine.store, scope)} <= set(initiative.team_ids)
    if scope.kind == "team":
        return bool(set(scope.ids) & set(initiative.team_ids))
    if scope.kind == "rep":
        return any(teams_of(engine.store, r, initiative.baseline_start) & set(initiative.team_ids)
                   for r in scope.ids)
    return False


def default_initiative(engine: Engine, scope: Scope,
                       initiatives: list[Initiative]) -> Initiative | None:
    """The initiative a page opens with: the newest one that covers the viewer, or none."""
    return next((i for i in initiatives if covers(engine, i, scope)), None)


def initiative_choice(engine: Engine, scope: Scope) -> tuple[list[Initiative], Initiative | None]:
    """What every page's initiative picker offers the viewer, and the one it opens with."""
    offered = initiatives_for(engine, scope)
    return offered, default_initiative(engine, scope, offered)


def initiative_progress(engine: Engine, initiative: Initiative, day: dt.date,
                        scope: Scope) -> list[Progress]:
    """Each targeted metric of the initiative card, within the viewer's scope."""
    return [progress(engine, initiative, m, day, scope) for m in initiative.metric_ids()]


# --- headline cards ---------------------------------------------------------------------------

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


def cards(engine: Engine, metric_ids: tuple[str, ...] | list[str], grain: str, day: dt.date,
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
    return [_card(engine, m, window, period_days, last, scope, initiative, basis)
            for m in metric_ids]


def _baseline_of(initiative: Initiative) -> Window:
    return Window(initiative.baseline_start, initiative.baseline_end)


def _card(engine: Engine, metric_id: str, window: Window, period_days: int, last: Window,
          scope: Scope, initiative: Initiative | None, basis: Basis | None) -> Card:
    metric = engine.catalog.get(metric_id)
    per_week = metric.grows_with_period
    value = window_value(engine, metric_id, window.start, window.end, scope)
    last_year = window_value(engine, metric_id, last.start, last.end, scope)
    expected = target = note = None
    if initiative is not None and basis is not None:
        note = basis.note
        if basis.scope is not None and (basis.own or not per_week):  # no team total for a rep
            expected = baseline_for_days(engine, metric_id, _baseline_of(initiative), basis.scope,
                                         window)
        version = initiative.target_on(metric_id, window.end)
        target = version.change_pct if version else None
    return Card(metric.id, metric.label, metric.unit, metric.direction, metric.definition,
                metric.formula, window, value, last_year, relative_change(last_year, value),
                relative_change(expected, value), target, per_week, period_days, last, expected,
                metric.missing, note)


# --- trends -----------------------------------------------------------------------------------

def trend(engine: Engine, metric_id: str, grain: str, window: Window, scope: Scope,
          initiative: Initiative | None = None) -> pd.DataFrame:
    """The metric per period in ``scope``; with an initiative also its baseline band (same
    scope), target steps and pace."""
    if initiative is None:
        return engine.run(MetricRequest.make(metric_id, grain=grain, scope=scope,
                                             date_from=window.start, date_to=window.end))
    return progress_series(engine, initiative, metric_id, grain, window.end, scope, window.start)


def initiative_trend(engine: Engine, metric_id: str, grain: str, window: Window, scope: Scope,
                     initiative: Initiative) -> pd.DataFrame:
    """:func:`trend` over the initiative's own teams, narrowed to what the viewer may see."""
    return trend(engine, metric_id, grain, window, initiative_scope(initiative, scope), initiative)


# --- segments ---------------------------------------------------------------------------------

def segments(engine: Engine, dimension: str, window: Window, scope: Scope,
             day: dt.date) -> pd.DataFrame:
    """Where we win more, faster, at better margins, and how much open pipeline sits there."""
    table: pd.DataFrame | None = None
    for metric_id in SEGMENT_METRICS:
        frame = engine.run(MetricRequest.make(metric_id, grain="total", by=[dimension], scope=scope,
                                              date_from=window.start, date_to=window.end))
        part = frame[[dimension, "value"]].rename(columns={"value": metric_id})
        if metric_id == "win_rate":
            part["closed_deals"] = frame["denominator"].astype(int)
        table = part if table is None else table.merge(part, on=dimension, how="outer")
    pipeline = engine.run(MetricRequest.make(
        "open_pipeline", grain="total", by=[dimension], scope=scope, date_from=day,
        date_to=day + dt.timedelta(days=365)))
    pipeline = pipeline[[dimension, "value"]].rename(columns={"value": "open_pipeline"})
    assert table is not None
    table = table.merge(pipeline, on=dimension, how="outer")
    table["open_pipeline"] = table["open_pipeline"].fillna(0.0)
    total = table["open_pipeline"].sum()
    table["pipeline_share"] = table["open_pipeline"] / total if total else 0.0
    return table.sort_values("win_rate", ascending=False, na_position="last").reset_index(drop=True)


# --- levers against targets and own baselines -------------------------------------------------

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
    if not rep_ids:
        return {}
    frame = engine.run(MetricRequest.make(lever, grain="total", by=["rep"],
                                          scope=Scope("rep", tuple(rep_ids), within),
                                          date_from=window.start, date_to=window.end))
    names = dict(zip(frame["rep"], frame["value"], strict=True))
    result = {}
    for member in members(engine.store, Scope.reps(*rep_ids), window.start, window.end):
        basis = baseline_basis(engine, window, Scope("rep", (member.rep_id,), within),
                               day or window.end)
        if basis.scope is None:
            continue
        value = names.get(member.name) if basis.own else window_value(
            engine, lever, window.start, window.end, basis.scope)
        if value is not None and pd.notna(value):
            result[member.name] = float(value)
    return result


def baseline_window(initiative: Initiative | None, day: dt.date) -> Window:
    """The initiative's baseline weeks, or (no initiative) the 13 weeks before the last 13."""
    if initiative is not None:
        return Window(initiative.baseline_start, initiative.baseline_end)
    end = period_start(day, "week") - dt.timedelta(weeks=13, days=1)
    return Window(end - dt.timedelta(weeks=13, days=-1), end)


def lever_weeks(engine: Engine, lever: str, scope: Scope, day: dt.date, weeks: int,
                initiative: Initiative | None = None, against: str = "target") -> pd.DataFrame:
    """Rep x week: value, target, own baseline and ``score``: value / goal, where the goal is the
    target (the own baseline where there is no target), or with ``against='own'`` the rep's own
    baseline.

    Weeks in which a rep was not active inside the scope (joined later, moved teams) are left
    out rather than shown as zero.
    """
    window = Window(period_start(day, "week") - dt.timedelta(weeks=weeks - 1), day)
    frame = engine.run(MetricRequest.make(lever, grain="week", by=["rep"], scope=scope,
                                          date_from=window.start, date_to=window.end))
    if "denominator" in frame:
        frame = frame[frame["denominator"] > 0].copy()
    ids = [m.rep_id for m in members(engine.store, scope, window.start, window.end)]
    within = scope.ids if scope.kind == "team" else scope.within
    own = own_baselines(engine, lever, ids, baseline_window(initiative, day), day, within)
    own_baseline = frame["rep"].map(own)
    frame["target"] = _week_targets(engine, initiative, lever, frame["period"], own_baseline)
    frame["own_baseline"] = own_baseline
    goal = frame["own_baseline"] if against == "own" else frame["target"].where(
        frame["target"].notna(), frame["own_baseline"])
    frame["score"] = frame["value"] / goal.where(goal > 0)
    return frame.reset_index(drop=True)


def _week_targets(engine: Engine, initiative: Initiative | None, lever: str, weeks: pd.Series,
                  own: pd.Series) -> list[float | None]:
    """Each rep-week's target: one standard for everyone, or each rep's own baseline raised."""
    changes = _target_changes(initiative, lever, [period_last_day(p, "week") for p in weeks])
    if initiative is None or all(c is None for c in changes):
        return [None] * len(weeks)
    if one_standard(engine, initiative, lever):
        references = [standard_baseline(engine, initiative, lever, None)] * len(weeks)
    else:
        references = own.tolist()
    return [None if c is None or r is None or pd.isna(r) else r * (1.0 + c)
            for c, r in zip(changes, references, strict=True)]


def off_track(engine: Engine, levers: tuple[str, ...] | list[str], scope: Scope, day: dt.date,
              initiative: Initiative | None = None, min_weeks: int = 2) -> pd.DataFrame:
    """Reps with a lever below target or below their own baseline in each of the last complete
    weeks, ``min_weeks`` or more in a row; worst first."""
    last_complete = period_start(day, "week") - dt.timedelta(days=1)
    rows = []
    for lever in levers:
        frame = lever_weeks(engine, lever, scope, last_complete, 8, initiative)
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


# --- one rep: pace and streaks ----------------------------------------------------------------

@dataclass(frozen=True)
class Pace:
    """A lever in the period to date against the goal for the whole period."""

    lever: str
    label: str
    unit: str
    grain: str
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
         initiative: Initiative | None = None, grains: tuple[str, ...] = ("week", "month", "quarter"),
         ) -> list[Pace]:
    """Each count lever this week, month and quarter to date against its goal for the period."""
    scope = rep_scope(rep)
    result = []
    for lever in levers:
        metric = engine.catalog.get(lever)
        if not metric.per_rep_week:
            continue
        own, own_kind = _own_baseline(engine, lever, baseline_window(initiative, day), scope, day)
        target = lever_target(engine, initiative, lever, day, own)
        for grain in grains:
            period = Window(period_start(day, grain), period_last_day(period_start(day, grain), grain))
            frame = engine.run(MetricRequest.make(lever, grain="total", scope=scope,
                                                  date_from=period.start, date_to=day))
            actual = float(frame["numerator"].iloc[0]) if len(frame) else 0.0
            active = float(frame["denominator"].iloc[0]) if len(frame) else 0.0
            goal, kind = (target, "target") if target is not None else (own, own_kind)
            result.append(Pace(lever, metric.label, metric.unit, grain, period,
                               (day - period.start).days + 1, active, actual, goal, kind, own))
    return result


def _own_baseline(engine: Engine, lever: str, window: Window, scope: Scope,
                  day: dt.date) -> tuple[float | None, str]:
    """The scope's baseline of a lever and what to call it ('own baseline' or 'team baseline')."""
    basis = baseline_basis(engine, window, scope, day)
    if basis.scope is None:
        return None, "own baseline"
    kind = "own baseline" if basis.own else "team baseline"
    return window_value(engine, lever, window.start, window.end, basis.scope), kind


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
    for lever in levers:
        frame = lever_weeks(engine, lever, rep_scope(rep), last_complete, 26, initiative)
        scored = frame.dropna(subset=["score"]).sort_values("period")
        if scored.empty:
            continue
        above = (scored["score"] >= 1.0).tolist()
        run = next((i for i, a in enumerate(reversed(above)) if a != above[-1]), len(above))
        kind = "target" if scored["target"].notna().iloc[-1] else baseline_kind
        result.append(Streak(lever, engine.catalog.get(lever).label, run, above[-1], kind))
    return result


def rep_trend(engine: Engine, rep: Scope, lever: str, grain: str, window: Window,
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


def team_average(engine: Engine, rep: Scope, lever: str, grain: str,
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


def _others_active(engine: Engine, team: str, rep_id: str, lever: str, grain: str,
                   window: Window) -> dict[dt.date, int]:
    """Per period: how many reps other than ``rep_id`` were active in the team."""
    counted = lever if engine.catalog.get(lever).per_rep_week else "activities"
    days = engine.run(MetricRequest.make(counted, grain=grain, by=["rep"],
                                         scope=Scope.teams(team), date_from=window.start,
                                         date_to=window.end))
    names = {m.name for m in members(engine.store, Scope.reps(rep_id), window.start, window.end)}
    active = days[(days["denominator"] > 0) & ~days["rep"].isin(names)]
    return active.groupby("period")["rep"].nunique().to_dict()


def target_history(engine: Engine, initiative: Initiative) -> pd.DataFrame:
    """Every target version, oldest first (nothing is ever overwritten)."""
    rows = [(engine.catalog.get(t.metric_id).label, t.change_pct, t.effective_from, t.note)
            for m in initiative.metric_ids() for t in initiative.target_history(m)]
    return pd.DataFrame(rows, columns=["metric", "target_change", "effective_from", "note"])


def review_history(engine: Engine, initiative: Initiative) -> pd.DataFrame:
    rows = [(r.review_date, r.learned, r.author) for r in initiative.reviews]
    return pd.DataFrame(rows, columns=["review_date", "learned", "author"])


def run(engine: Engine, request: MetricRequest) -> pd.DataFrame:
    """One metric request as it is (the explorer)."""
    return engine.run(request)



def rollout_effects(engine: Engine, initiative: Initiative,
                    metric_ids: tuple[str, ...]) -> list:
    """The rollout's estimated effect on each per-rep-week lever, with its placebo (company-wide)."""
    from kpi.insights.rollout import estimate

    levers = [m for m in metric_ids if engine.catalog.get(m).per_rep_week]
    cache: dict = {}  # the estimate and its placebo read the same weeks when no team is left over
    return [(estimate(engine, initiative, m, cache=cache),
             estimate(engine, initiative, m, shift_weeks=26, cache=cache)) for m in levers]


def rollout_output_effects(engine: Engine, initiative: Initiative,
                           metric_ids: tuple[str, ...]) -> list:
    """The rollout's effect on rate outputs (an interrupted time series), with its placebo."""
    from kpi.insights.rollout import estimate_output

    cache: dict = {}
    return [(estimate_output(engine, initiative, m, cache=cache),
             estimate_output(engine, initiative, m, shift_weeks=26, cache=cache))
            for m in metric_ids]


def rep_win_rates(engine: Engine, scope: Scope, window: Window) -> pd.DataFrame:
    """Per-rep win rates with 90% intervals, shrunk rates and funnel limits (within scope)."""
    from kpi.insights.small_numbers import rep_win_rates as compute

    return compute(engine, scope, window)


# --- which levers lead -----------------------------------------------------------------------

LEAD_OUTPUT = "win_rate"  # the output levers are pushed for: first in the lead-lag tests
ROLLOUT_OUTPUTS = ("win_rate",)  # outputs whose rollout effect the time series estimates


def lead_pairs(catalog: Catalog) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The levers and the outputs the lead-lag tests pair, every role's (one table, kept once
    per data version): the catalog's `shown_in: [lead_lag]`, win rate first among the outputs."""
    shown = catalog.shown("lead_lag")
    levers = tuple(m for m in shown if catalog.get(m).kind == "lever")
    outputs = sorted((m for m in shown if catalog.get(m).kind == "output"),
                     key=lambda m: m != LEAD_OUTPUT)
    return levers, tuple(outputs)


def seen_leads(catalog: Catalog, leads: pd.DataFrame, role: str | None) -> pd.DataFrame:
    """The rows of a :func:`lead_lags` table whose lever and output a viewer of ``role`` sees."""
    if leads.empty:
        return leads
    seen = {m.id for m in catalog.for_role(role)} if role is not None else set(catalog.ids())
    keep = leads["lever"].isin(seen) & leads["output"].isin(seen)
    return leads[keep].reset_index(drop=True)


def lead_lags(engine: Engine, levers: tuple[str, ...], outputs: tuple[str, ...],
              day: dt.date) -> pd.DataFrame:
    """Each lever against each output over the last year (all teams, no rep named), with the
    verdict at the previous quarter end so a lever that stopped predicting is flagged."""
    from kpi.insights.lead_lag import lead_lag, panel, stopped_predicting, window

    previous = quarter_ends(day - dt.timedelta(days=1), 1)[0]  # the last review before today
    start, end = window(previous)[0], window(day)[1]
    panels = {m: panel(engine, m, start, end) for m in dict.fromkeys([*levers, *outputs])}
    rows = []
    for output in outputs:
        for lever in levers:
            now = lead_lag(engine, lever, output, day, boot=200, panels=panels)
            before = lead_lag(engine, lever, output, previous, boot=0, panels=panels)
            rows.append({
                "lever": lever, "output": output, "lever_label": engine.catalog.get(lever).label,
                "output_label": engine.catalog.get(output).label, "leads": now.leads,
                "lag": now.lag, "lag_low": now.lag_low, "lag_high": now.lag_high,
                "strength": now.strength, "low": now.low, "high": now.high,
                "p_value": now.p_value, "verdict": now.headline, "detail": now.message,
                "led_before": before.leads,
                "stopped": stopped_predicting(before, now), "previous": previous})
    return pd.DataFrame(rows)


def lead_lag_detail(engine: Engine, lever: str, output: str, day: dt.date) -> LeadLag:
    """One lever against one output, with its curve by lag (the same run as in the table)."""
    from kpi.insights.lead_lag import lead_lag

    return lead_lag(engine, lever, output, day, boot=200)


def lead_lag_review(engine: Engine, lever: str, output: str, day: dt.date) -> pd.DataFrame:
    """The lead-lag verdict at each of the last four quarter ends."""
    from kpi.insights.lead_lag import review

    return review(engine, lever, output, day)


def levers_to_push(engine: Engine, scope: Scope, day: dt.date, initiative: Initiative | None,
                   leads: pd.DataFrame, output: str = "win_rate") -> pd.DataFrame:
    """For a team or a rep: each lever's evidence of leading ``output`` (``leads``, from
    :func:`lead_lags` over all teams) beside the scope's last four complete weeks against its
    goal, levers to push first.

    The goal is the initiative's target, else the scope's own baseline (for a rep employed for
    less than half of the baseline weeks, their team's, as on My levers). ``push`` marks a lever
    that leads the output and is below its goal.
    """
    leads = seen_leads(engine.catalog, leads, scope.role)
    table = leads[leads["output"] == output].copy()
    end = period_start(day, "week") - dt.timedelta(days=1)
    start = end - dt.timedelta(weeks=4) + dt.timedelta(days=1)
    base = baseline_window(initiative, day)
    recent, goals, kinds = [], [], []
    for lever in table["lever"]:
        recent.append(window_value(engine, lever, start, end, scope))
        own, own_kind = _own_baseline(engine, lever, base, scope, day)  # as My levers has it
        target = lever_target(engine, initiative, lever, day, own)
        goals.append(target if target is not None else own)
        kinds.append("target" if target is not None else own_kind)
    table["recent"], table["goal"], table["goal_kind"] = recent, goals, kinds
    table["vs_goal"] = [relative_change(g, r) for r, g in zip(recent, goals, strict=True)]
    table["push"] = table["leads"] & (table["vs_goal"].fillna(0) < 0)
    table["weeks"] = f"{start:%d %b}–{end:%d %b %Y}"
    order = table.assign(_rank=~table["push"], _leads=~table["leads"])
    return order.sort_values(["_rank", "_leads", "vs_goal"]).drop(
        columns=["_rank", "_leads"]).reset_index(drop=True)


# --- where will the quarter land ---------------------------------------------------------------

def quarter_forecast(engine: Engine, scope: Scope, day: dt.date) -> Forecast:
    """Revenue and quota attainment at the end of the quarter containing ``day``, with a range.

    The past quarters' stage odds (company-wide) are read from the insights kept after the last
    import when they are there, so a team's forecast only reads its own open deals."""
    from kpi.insights import stored
    from kpi.insights.forecast import forecast, past_quarters

    return forecast(engine, scope, day, past=stored.answer(engine, past_quarters, day))


def pipeline_coverage_needed(engine: Engine, scope: Scope, day: dt.date) -> pd.DataFrame:
    """Per segment: the pipeline the rest of the quarter needs at the segment's own win rate."""
    from kpi.insights.forecast import coverage

    return coverage(engine, scope, day)


# --- insights kept between visits ---------------------------------------------------------------

def rollout_levers(catalog: Catalog, initiative: Initiative) -> tuple[str, ...]:
    """The levers whose rollout effect the executive's Insights page estimates: the initiative's
    own first, then those of the lever pages and of the lead-lag tests an executive sees."""
    shown = [*catalog.shown("levers", "executive"), *catalog.shown("lead_lag", "executive")]
    return tuple(dict.fromkeys([*initiative.metric_ids(),
                                *(m for m in shown if catalog.get(m).kind == "lever")]))


def last_year(day: dt.date) -> Window:
    """The year to ``day`` that the Insights page's win rates and forecasts look back on."""
    return Window(shift_years(day, -1), day)


# the views whose answers are kept in the database per data version (kpi.insights.stored): the
# statistics, which take seconds to minutes on a large company
STORED = (lead_lags, lead_lag_detail, lead_lag_review, rollout_effects, rollout_output_effects,
          quarter_forecast, pipeline_coverage_needed, rep_win_rates)


def insight_questions(engine: Engine) -> list[tuple]:
    """What the executive's Insights page asks on the current data, company-wide: computed after
    each import so that its first visit reads them (a team's or a rep's questions are computed
    on their first visit and kept from then on)."""
    day = as_of(engine)
    executive = Scope.everyone().seen_by("executive")
    levers, outputs = lead_pairs(engine.catalog)
    from kpi.insights.forecast import past_quarters

    questions: list[tuple] = [
        (past_quarters, (day,)),  # first: every forecast below reads it
        (lead_lags, (levers, outputs, day)),
        (quarter_forecast, (executive, day)), (pipeline_coverage_needed, (executive, day)),
        (rep_win_rates, (executive, last_year(day)))]
    if levers and outputs:  # the lead-lag page's first lever and output
        questions[2:2] = [(lead_lag_detail, (levers[0], outputs[0], day)),
                          (lead_lag_review, (levers[0], outputs[0], day))]
    for initiative in initiatives_for(engine, Scope.everyone()):
        questions += [(rollout_effects, (initiative, rollout_levers(engine.catalog, initiative))),
                      (rollout_output_effects, (initiative, ROLLOUT_OUTPUTS))]
    return questions


def team_questions(engine: Engine) -> list[tuple]:
    """What each team's manager's Insights page asks that is kept (the forecast, the pipeline it
    needs, the win rates): computed after the executive's in the app's background refresh, so a
    manager's first visit after an import reads them too."""
    day = as_of(engine)
    questions: list[tuple] = []
    for team_id, _ in teams(engine.store, Scope.everyone()):
        manager = Scope.teams(team_id).seen_by("manager")
        questions += [(quarter_forecast, (manager, day)), (pipeline_coverage_needed, (manager, day)),
                      (rep_win_rates, (manager, last_year(day)))]
    return questions


def refresh_insights(engine: Engine, keeper: Store, teams: bool = False
                     ) -> dict[str, float | str]:
    """Compute and keep :func:`insight_questions` (and with ``teams`` :func:`team_questions`) on
    the current data; seconds per view (or why it could not be answered)."""
    from kpi.insights import stored

    return stored.refresh(engine, keeper, insight_questions(engine)
                          + (team_questions(engine) if teams else []))
