"""The effect a rollout caused on a lever or on a rate output: each unit against its own past.

Estimand: the relative change in a rate — a lever per active rep-week, or an output such as win
rate (won / closed deals, by close date) — over every week from ``steady_from`` weeks after a
team adopted to the end of the data (8 for levers, 16 for outputs, which move later), against
what the same units would have done in those weeks without the rollout; weeks are weighted by
their counts (a ratio of totals), so an effect that swings from week to week around its level is
measured at its average. docs/insights.md shows how this matches the demo's ``demo_truth``.

Method: a unit x week panel over all the data, each rep on their current team. Units: reps for
levers, without each rep's first ONBOARDING_WEEKS weeks after hire (their ramp-up would look
like growth); teams for rates (a rep closes a deal or two a week), and for everything above
MAX_REP_UNITS reps. A Poisson regression of the count with the exposure as offset (rep-weeks for
a lever, closed deals for a rate), one effect per unit (its own level, measured on its own weeks
before adoption; profiled out, not dummy columns), one per calendar month (seasonality, measured
on the year before as well as after, so a week is compared with the same month of the other
year), one per 4-week window of the ramp-up (weeks 0 to ``steady_from`` - 1, kept out of the
effect) and one for ``steady_from`` weeks on: the effect. Teams that have not adopted yet inform
the months they share with adopted teams; nothing else is a control (no other lever). The
standard error is the larger of the team- and the rep-clustered one (CR1; with six teams the
team-clustered one alone is too unstable), and the 90% interval uses Student's t with teams - 1
degrees of freedom.

Placebo (``shift_weeks`` > 0): the same model on each unit's weeks before its real adoption
only, with the adoption moved ``shift_weeks`` earlier; it should find nothing.

Event study: the same model with 4-week windows for the ``pre_weeks`` before adoption as well
(against the weeks before them); they should hover around zero.

Assumptions: without the rollout each unit would have kept its own level, up to a seasonality
that repeats from year to year (no trend, no other programme at the same time); adoption dates
were not chosen because of a coming change; reps log activities the same way after the rollout.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpi.engine import Engine, MetricRequest
from kpi.initiatives import Initiative
from kpi.people import hire_days, rep_count, team_names

MAX_REP_UNITS = 300  # above this many reps, teams are the units (summed in the database)
ONBOARDING_WEEKS = 13  # a new rep's first quarter: ramping up, not yet their own level
WINDOW_WEEKS = 4  # the event study's and the ramp-up's windows
MIN_BEFORE_WEEKS = 26  # half a year before adoption: each unit's level and most months
MIN_STEADY_WEEKS = 8  # weeks with some unit past its ramp-up


@dataclass(frozen=True)
class RolloutEffect:
    metric_id: str
    effect: float | None  # relative change, e.g. 0.25 = +25%
    low: float | None  # 90% interval
    high: float | None
    event_study: pd.DataFrame  # week_since_adoption (start of a 4-week window), effect, low, high
    reps: int  # units: reps, or teams in a large company (see ``unit``)
    weeks: int
    message: str  # the verdict in words, or why there is too little data
    design: str = "time series"  # each unit against its own weeks before adoption
    unit: str = "rep"  # what the unit effects are: 'rep' or 'team' (clusters are teams)

    @property
    def significant(self) -> bool:
        return self.low is not None and (self.low > 0 or (self.high is not None and self.high < 0))


def panel(engine: Engine, initiative: Initiative, metric_id: str, start: dt.date,
          end: dt.date, cache: dict[Any, pd.DataFrame] | None = None, by_team: bool = False) -> pd.DataFrame:
    """Unit x week counts and exposure, each rep on their current team, with its adoption day.

    The units are reps, without their first ONBOARDING_WEEKS weeks; teams with ``by_team``, or
    above MAX_REP_UNITS reps, summed in the database. ``cache`` keeps panels between the
    estimate and its placebo.
    """
    if rep_count(engine.store) > MAX_REP_UNITS:
        by_team = True
    key = (metric_id, start, end, by_team)
    if cache is not None and key in cache:
        return cache[key].copy()
    frame = engine.run(MetricRequest.make(metric_id, grain="week",
                                          by=["team"] if by_team else ["rep", "team"],
                                          attribution="current", date_from=start, date_to=end))
    adopted = adoptions(engine, initiative)
    frame["adopted_on"] = frame["team"].map(adopted.get)
    frame = frame[(frame["denominator"] > 0) & frame["adopted_on"].notna() & ~frame["is_partial"]]
    frame = frame.assign(rep=frame["team"]) if by_team else _settled(engine, frame)
    frame = frame.reset_index(drop=True)
    frame.attrs["unit"] = "team" if by_team else "rep"
    if cache is not None:
        cache[key] = frame.copy()
    return frame


def _settled(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    """Without each rep's first ONBOARDING_WEEKS weeks after hire (reps are named as the engine
    names them)."""
    hired = hire_days(engine.store)
    since = pd.to_datetime(frame["period"]) - pd.to_datetime(frame["rep"].map(hired))
    return frame[~(since < pd.Timedelta(weeks=ONBOARDING_WEEKS))]


def adoptions(engine: Engine, initiative: Initiative) -> dict[str, dt.date]:
    """Team name -> the day it adopted; an initiative without teams is the whole company
    adopting on its rollout date."""
    names = team_names(engine.store)
    if not initiative.teams:
        return {name: initiative.rollout_date for name in names.values()}
    return {names[t]: d for t, d in initiative.teams if t in names}


def estimate(engine: Engine, initiative: Initiative, metric_id: str, pre_weeks: int = 16,
             steady_from: int = 8, shift_weeks: int = 0,
             cache: dict[Any, pd.DataFrame] | None = None) -> RolloutEffect:
    """The rollout's effect on a per-rep-week lever (``shift_weeks`` > 0: a placebo), from
    ``steady_from`` weeks after adoption on, when a ramp-up should be over."""
    if not engine.catalog.get(metric_id).per_rep_week:
        raise ValueError(f"{metric_id} is not a per-rep-week lever")
    return _estimate(engine, initiative, metric_id, _Windows(steady_from, pre_weeks),
                     shift_weeks, cache, by_team=False)


def estimate_output(engine: Engine, initiative: Initiative, metric_id: str,
                    shift_weeks: int = 0, steady_from: int = 16,
                    cache: dict[Any, pd.DataFrame] | None = None) -> RolloutEffect:
    """The rollout's effect on a rate output such as win rate, from ``steady_from`` weeks after
    adoption on: outputs move after the levers, so the ramp-up is longer."""
    metric = engine.catalog.get(metric_id)
    if not metric.is_ratio or not metric.numerator.additive:
        raise ValueError(f"{metric_id} is not a rate of counts")
    return _estimate(engine, initiative, metric_id, _Windows(steady_from, 16), shift_weeks,
                     cache, by_team=True)


@dataclass(frozen=True)
class _Windows:
    steady_from: int  # the effect: this many weeks after adoption and later
    pre_weeks: int  # the event study's weeks before adoption

    def columns(self, since: pd.Series, event_study: bool) -> pd.DataFrame:
        """Indicators of the 4-week windows since adoption (and before it, for the event study)
        and of the steady weeks, named by the week each starts."""
        first = -self.pre_weeks if event_study else 0
        starts = [*range(first, 0, WINDOW_WEEKS), *range(0, self.steady_from, WINDOW_WEEKS)]
        ends = [*starts[1:], self.steady_from]
        ends = [min(e, 0) if s < 0 else e for s, e in zip(starts, ends, strict=True)]
        cols = {s: ((since >= s) & (since < e)) for s, e in zip(starts, ends, strict=True)}
        cols[self.steady_from] = since >= self.steady_from
        return pd.DataFrame({f"w{s}": c.astype(float) for s, c in cols.items()})


def _estimate(engine: Engine, initiative: Initiative, metric_id: str, windows: _Windows,
              shift_weeks: int, cache: dict[Any, pd.DataFrame] | None, by_team: bool) -> RolloutEffect:
    adopted = adoptions(engine, initiative)
    if not adopted:
        return _too_little(metric_id, "too little data: no team of this initiative has adopted")
    lo, hi = engine.data_range()
    data = panel(engine, initiative, metric_id, lo, hi, cache, by_team and len(adopted) > 1)
    since = (pd.to_datetime(data["period"]) - pd.to_datetime(data["adopted_on"])).dt.days // 7
    kept = None
    if shift_weeks:
        data, since, kept = _placebo(data, since, windows, shift_weeks,
                                     staggered=len(set(adopted.values())) > 1)
    seen = since > _NEVER
    before = data.loc[seen & (since < 0), "period"].nunique()
    steady = data.loc[since >= windows.steady_from, "period"].nunique()
    if before < MIN_BEFORE_WEEKS or steady < MIN_STEADY_WEEKS:
        return _too_little(metric_id, f"too little data: half a year before adoption and "
                           f"{windows.steady_from + MIN_STEADY_WEEKS} weeks after it are needed")
    last = shift_weeks - 1 if shift_weeks else int(since.max())
    return _fit(metric_id, data, since, windows, last, kept)


_NEVER = -10**6  # weeks since a placebo adoption, for weeks after the real one


def _placebo(data: pd.DataFrame, since: pd.Series, windows: _Windows, shift_weeks: int,
             staggered: bool) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
    """The panel, weeks since a fake adoption ``shift_weeks`` before the real one, and any
    columns to keep in the model.

    Staggered adoption: each unit's weeks before its real adoption only. A single adoption date
    leaves each month of those weeks on one side of the fake adoption only, so seasonality and a
    fake effect could not be told apart: then every week stays in, the real adoption's windows
    are kept in the model and the fake windows stop at the real adoption.
    """
    fake = since + shift_weeks
    if staggered:
        before = since < 0
        return (data[before].reset_index(drop=True), fake[before].reset_index(drop=True), None)
    return data, fake.where(since < 0, _NEVER), windows.columns(since, False).add_prefix("real_")


def _fit(metric_id: str, data: pd.DataFrame, since: pd.Series, windows: _Windows,
         last: int, kept: pd.DataFrame | None = None) -> RolloutEffect:
    steady = f"w{windows.steady_from}"
    try:
        effect = _relative(_poisson(data, windows.columns(since, False), kept), steady)
        study = _poisson(data, windows.columns(since, True), kept)
    except np.linalg.LinAlgError as exc:
        return _too_little(metric_id, f"too little data: {exc}")
    except (ValueError, OverflowError) as exc:
        return _too_little(metric_id, f"the model could not be fitted ({exc})")
    rows = [(int(name[1:]), *_relative(study, name)) for name in study.params.index
            if name.startswith("w")]
    _, low, high = effect
    if not all(math.isfinite(v) for v in effect) or high - low > 50:
        return _too_little(metric_id, "too little data: the effect cannot be told apart from "
                           "seasonality")
    return RolloutEffect(
        metric_id, *effect, pd.DataFrame(rows, columns=["week_since_adoption", "effect", "low",
                                                        "high"]),
        data["rep"].nunique(), data["period"].nunique(),
        _verdict(*effect, windows.steady_from, last), unit=data.attrs.get("unit", "rep"))


@dataclass(frozen=True)
class _Fit:
    params: pd.Series
    se: pd.Series  # the larger of the team- and the rep-clustered standard error
    clusters: int  # teams (reps when there is one team): the t distribution's df + 1


def _poisson(data: pd.DataFrame, windows: pd.DataFrame, kept: pd.DataFrame | None) -> _Fit:
    """Counts on one effect per unit, calendar months and ``windows``, exposure as the offset.

    Standard errors: the larger of the team- and the rep-clustered one (a single team: the
    rep-clustered one), with teams - 1 degrees of freedom (reps - 1 for a single team).
    """
    month = pd.to_datetime(data["period"]) + pd.Timedelta(days=2)  # the working week's middle
    months = pd.get_dummies(month.dt.month, prefix="month", dtype=float)
    design = pd.concat([months.iloc[:, 1:], windows, kept], axis=1)
    design = design.loc[:, design.to_numpy().any(axis=0)]
    units, teams = pd.factorize(data["rep"])[0], pd.factorize(data["team"])[0]
    groups = [teams, units] if teams.max() > 0 else [units]
    beta, covs = poisson_fe(data["numerator"].to_numpy(float),
                            np.log(data["denominator"].to_numpy(float)), units,
                            design.to_numpy(), *groups)
    se = np.sqrt(np.max([np.diag(c) for c in covs], axis=0))
    return _Fit(pd.Series(beta, index=design.columns), pd.Series(se, index=design.columns),
                int(groups[0].max()) + 1)


def poisson_fe(y: np.ndarray, offset: np.ndarray, units: np.ndarray, x: np.ndarray,
               *clusterings: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, list[np.ndarray]]:
    """Poisson regression with one effect per unit (profiled out, never a dummy column), and
    its covariance clustered by each of ``clusterings`` (CR1; units must nest in clusters).

    Profiling keeps the fit to a few columns however many units there are, so a 2,000-rep
    panel costs what a 20-team one does. Units without a count carry no information and drop.
    BLAS runs on one thread: these products are small, and threads fighting over a busy
    machine's cores made a 0.2 s fit take 5 s.
    """
    from threadpoolctl import threadpool_limits

    keep = np.bincount(units, weights=y)[units] > 0
    y, offset, x = y[keep], offset[keep], x[keep]
    units = np.unique(units[keep], return_inverse=True)[1]
    with threadpool_limits(limits=1, user_api="blas"):
        beta = _newton(y, offset, units, x, tol)
        mu, centred = _profiled(y, offset, units, x, beta)
        bread = np.linalg.inv((centred * mu[:, None]).T @ centred)
        covs = [_sandwich(bread, centred * (y - mu)[:, None], groups[keep], x.shape[1] +
                          units.max() + 1) for groups in clusterings]
    return beta, covs


def _sandwich(bread: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """The cluster-robust covariance with the small-sample factor statsmodels uses (CR1)."""
    groups = np.unique(groups, return_inverse=True)[1]
    g, n = int(groups.max()) + 1, len(groups)
    if g < 2:
        raise ValueError("a single unit: errors cannot be clustered")
    summed = np.stack([np.bincount(groups, weights=c, minlength=g) for c in scores.T], axis=1)
    return np.asarray(g / (g - 1) * (n - 1) / max(n - k, 1) * bread @ (summed.T @ summed) @ bread)


def _newton(y: np.ndarray, offset: np.ndarray, units: np.ndarray, x: np.ndarray,
            tol: float) -> np.ndarray:
    """The coefficients by Newton steps on the profiled likelihood (concave: a few steps)."""
    beta = np.zeros(x.shape[1])
    for step_no in range(50):
        mu, centred = _profiled(y, offset, units, x, beta)
        information = (centred * mu[:, None]).T @ centred
        if step_no == 0 and np.linalg.matrix_rank(information) < x.shape[1]:
            raise np.linalg.LinAlgError("seasonality and the rollout cannot be told apart (too "
                                        "few months with weeks both before and after adoption)")
        step = np.linalg.solve(information, centred.T @ (y - mu))
        beta += step
        if np.abs(step).max() < tol:
            return beta
    raise np.linalg.LinAlgError("the fit did not converge")


def _profiled(y: np.ndarray, offset: np.ndarray, units: np.ndarray, x: np.ndarray,
              beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fitted means with each unit's effect at its maximum, and ``x`` centred within units
    (weighted by those means): the profiled score and information are built from both."""
    eta = offset + x @ beta
    m = np.exp(eta - eta.max())
    mu = m * (np.bincount(units, weights=y) / np.bincount(units, weights=m))[units]
    weight = np.bincount(units, weights=mu)
    means = np.stack([np.bincount(units, weights=mu * c) for c in x.T], axis=1) / weight[:, None]
    return mu, x - means[units]


def _relative(fit: _Fit, name: str) -> tuple[float, float, float]:
    """exp(coefficient) - 1 with its 90% interval (t with teams - 1 degrees of freedom)."""
    beta, se = float(fit.params[name]), float(fit.se[name])
    crit = t95(fit.clusters - 1)
    return math.expm1(beta), math.expm1(beta - crit * se), math.expm1(beta + crit * se)


def t95(df: int) -> float:
    """Student's t 95th percentile: exact for up to 9 degrees of freedom, then the
    Cornish-Fisher expansion around the normal's (error below 1e-4), without importing scipy.stats
    (seconds on a cold start)."""
    if df < 10:
        return _T95[df - 1]
    z = 1.6448536269514722
    terms = ((z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96,
             (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
             (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160)
    return float(z + sum(term / df ** (i + 1) for i, term in enumerate(terms)))


_T95 = (6.313752, 2.919986, 2.353363, 2.131847, 2.015048, 1.943180, 1.894579, 1.859548, 1.833113)


def _verdict(effect: float, low: float, high: float, first: int, last: int) -> str:
    span = (f"{effect:+.0%} (90% interval {low:+.0%} to {high:+.0%}), "
            f"weeks {first}-{last} after adoption")
    if low > 0:
        return f"the rollout raised it: {span}"
    if high < 0:
        return f"the rollout lowered it: {span}"
    return f"no clear effect: {span}"


def _too_little(metric_id: str, message: str) -> RolloutEffect:
    empty = pd.DataFrame(columns=["week_since_adoption", "effect", "low", "high"])
    return RolloutEffect(metric_id, None, None, None, empty, 0, 0, message)
