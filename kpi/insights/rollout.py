"""The effect a rollout caused on a lever: an event study with staggered adoption.

Method: a rep x week panel of the lever (counts and active rep-weeks, each rep on their current
team), from ``pre_weeks`` before the first adoption to the day before the last team adopts, so
every week still has teams that have not adopted yet to compare with. A Poisson regression with
rep and week fixed effects (week effects absorb seasonality and anything that hit every team at
once, such as the reorganisation itself) and an offset for exposure estimates, for each week
since a team adopted, the change against the week before adoption. Standard errors are clustered
by rep. The *effect* is the average of the last ``steady_weeks`` event weeks, when a ramp-up
should be over; its 90% interval comes from the clustered covariance. A placebo runs the same
model with every adoption moved back ``placebo_weeks`` before the rollout, where nothing happened.

Assumptions: without the rollout, adopting and not-yet-adopting teams would have moved in
parallel; adoption dates were not chosen because of a coming change in the lever; reps do not
change how they log activities because of the rollout.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.engine import Engine, MetricRequest
from kpi.initiatives import Initiative

Z90 = 1.6448536269514722
MAX_REP_UNITS = 300  # above this many reps, teams are the units (rep dummies outgrow memory)


@dataclass(frozen=True)
class RolloutEffect:
    metric_id: str
    effect: float | None  # relative change, e.g. 0.25 = +25%
    low: float | None  # 90% interval
    high: float | None
    event_study: pd.DataFrame  # week_since_adoption, effect, low, high
    reps: int  # units: reps, or teams in a large company (see ``unit``)
    weeks: int
    message: str  # the verdict in words, or why there is too little data
    design: str = "staggered"  # 'staggered' (teams not yet adopted) or 'time series'
    unit: str = "rep"  # what the fixed effects and the clusters are: 'rep' or 'team'

    @property
    def significant(self) -> bool:
        return self.low is not None and (self.low > 0 or (self.high is not None and self.high < 0))


def panel(engine: Engine, initiative: Initiative, metric_id: str, start: dt.date,
          end: dt.date, cache: dict | None = None) -> pd.DataFrame:
    """Unit x week counts and exposure, each rep on their current team, with its adoption day.

    The units are reps; above MAX_REP_UNITS reps (one fixed effect per rep would not fit in
    memory) they are teams, summed in the database. ``cache`` keeps panels between the estimate
    and its placebo.
    """
    key = (metric_id, start, end)
    if cache is not None and key in cache:
        return cache[key].copy()
    unit = "team" if (engine.store.scalar("SELECT count(*) FROM reps") or 0) > MAX_REP_UNITS \
        else "rep"
    by = ["team"] if unit == "team" else ["rep", "team"]
    frame = engine.run(MetricRequest.make(metric_id, grain="week", by=by, attribution="current",
                                          date_from=start, date_to=end))
    adopted = adoptions(engine, initiative)
    frame["adopted_on"] = frame["team"].map(adopted.get)
    frame = frame[(frame["denominator"] > 0) & frame["adopted_on"].notna() & ~frame["is_partial"]]
    frame = frame.reset_index(drop=True)
    if unit == "team":
        frame["rep"] = frame["team"]
    frame.attrs["unit"] = unit
    if cache is not None:
        cache[key] = frame.copy()
    return frame


def adoptions(engine: Engine, initiative: Initiative) -> dict[str, dt.date]:
    """Team name -> the day it adopted; an initiative without teams is the whole company
    adopting on its rollout date."""
    names = dict(engine.store.rows("SELECT team_id, name FROM teams")[1])
    if not initiative.teams:
        return {name: initiative.rollout_date for name in names.values()}
    return {names[t]: d for t, d in initiative.teams if t in names}


def estimate(engine: Engine, initiative: Initiative, metric_id: str, pre_weeks: int = 16,
             steady_from: int = 8, shift_weeks: int = 0,
             cache: dict | None = None) -> RolloutEffect:
    """The rollout's effect on a per-rep-week lever (``shift_weeks`` > 0: a placebo).

    When every team adopted on the same day there is no team left to compare with: the
    interrupted time series of :func:`estimate_output` answers instead.
    """
    metric = engine.catalog.get(metric_id)
    if not metric.per_rep_week:
        raise ValueError(f"{metric_id} is not a per-rep-week lever")
    dates = set(adoptions(engine, initiative).values())
    if len(dates) == 1:
        return estimate_output(engine, initiative, metric_id, shift_weeks, steady_from=8,
                               cache=cache)
    if not dates:
        return _too_little(metric_id, "too little data: no team of this initiative has adopted")
    shift = dt.timedelta(weeks=shift_weeks)
    first, last = min(dates) - shift, max(dates) - shift
    start, end = first - dt.timedelta(weeks=pre_weeks), last - dt.timedelta(days=1)
    data = panel(engine, initiative, metric_id, start, end, cache)
    data["adopted_on"] = data["adopted_on"].map(lambda d: d - shift)
    horizon = (last - first).days // 7 - 1
    if data.empty or horizon <= steady_from:
        return _too_little(metric_id, "too little data: at least two teams adopting a few weeks "
                           "apart, with weeks before and after, are needed")
    return _fit(metric_id, data, pre_weeks, horizon, steady_from)


def _fit(metric_id: str, data: pd.DataFrame, pre_weeks: int, horizon: int,
         steady_from: int) -> RolloutEffect:
    since = ((pd.to_datetime(data["period"]) - pd.to_datetime(data["adopted_on"])).dt.days
             // 7).clip(lower=-pre_weeks, upper=steady_from)
    events = [k for k in range(-pre_weeks, steady_from + 1) if k != -1]
    try:
        fit = _poisson(data, pd.get_dummies(data["period"].astype(str), prefix="week",
                                            drop_first=True, dtype=float),
                       pd.DataFrame({f"k{k}": (since == k).astype(float) for k in events}))
    except (np.linalg.LinAlgError, ValueError) as exc:
        return _too_little(metric_id, f"the model could not be fitted ({exc})")
    study = pd.DataFrame([_relative(fit, [f"k{k}"], k) for k in events if k >= -pre_weeks + 1],
                         columns=["week_since_adoption", "effect", "low", "high"])
    _, effect, low, high = _relative(fit, [f"k{steady_from}"], None)
    reps, weeks = data["rep"].nunique(), data["period"].nunique()
    return RolloutEffect(metric_id, effect, low, high, study, reps, weeks,
                         _verdict(effect, low, high, steady_from, horizon),
                         unit=data.attrs.get("unit", "rep"))


def estimate_output(engine: Engine, initiative: Initiative, metric_id: str,
                    shift_weeks: int = 0, steady_from: int = 16,
                    cache: dict | None = None) -> RolloutEffect:
    """The rollout's effect on a rate output such as win rate: an interrupted time series.

    Outputs move after the levers, mostly once every team has adopted, when no team is left to
    compare with. So each unit's weekly rate is compared with its own level before adoption,
    month-of-year effects taking out seasonality, in windows since the team adopted (0-7, 8-15,
    and ``steady_from`` weeks on, the effect). With ``shift_weeks`` > 0 (a placebo) the same
    windows start that many weeks before each real adoption and stop at it; the real windows
    stay in the model, so what comes after the real adoption cannot leak into the placebo.
    """
    metric = engine.catalog.get(metric_id)
    if not metric.is_ratio or not metric.numerator.additive:
        raise ValueError(f"{metric_id} is not a rate of counts")
    if not adoptions(engine, initiative):
        return _too_little(metric_id, "too little data: no team of this initiative has adopted",
                           "time series")
    lo, hi = engine.data_range()
    data = panel(engine, initiative, metric_id, lo, hi, cache)
    since = ((pd.to_datetime(data["period"]) - pd.to_datetime(data["adopted_on"])).dt.days // 7)
    real = _windows(since, steady_from, "")
    windows = real
    if shift_weeks:
        fake = _windows(since + shift_weeks, steady_from, "placebo_")
        windows = pd.concat([real, fake.mul(since < 0, axis=0)], axis=1)
        since = since + shift_weeks
    prefix = "placebo_" if shift_weeks else ""
    before = data.loc[since < 0, "period"].nunique()
    steady = data.loc[windows[f"{prefix}steady"] > 0, "period"].nunique()
    if data.empty or before < 26 or steady < 8:
        return _too_little(metric_id, f"too little data: half a year before adoption and "
                           f"{steady_from + 8} weeks after it are needed", "time series")
    last = shift_weeks - 1 if shift_weeks else int(since.max())
    return _fit_series(metric_id, data, windows, prefix, steady_from, last)


def _windows(since: pd.Series, steady_from: int, prefix: str) -> pd.DataFrame:
    """Indicators of the windows since adoption: 0-7, 8 to ``steady_from`` and after."""
    bounds = {"w0": (0, 8), "w8": (8, steady_from), "steady": (steady_from, 10_000)}
    return pd.DataFrame({f"{prefix}{name}": ((since >= a) & (since < b)).astype(float)
                         for name, (a, b) in bounds.items()})


def _fit_series(metric_id: str, data: pd.DataFrame, windows: pd.DataFrame, prefix: str,
                steady_from: int, last: int) -> RolloutEffect:
    windows = windows.loc[:, windows.sum() > 0]
    month = pd.to_datetime(data["period"]).dt.month.astype(str)
    starts = {"w0": 0, "w8": 8, "steady": steady_from}
    reported = [(start, f"{prefix}{name}") for name, start in starts.items()
                if f"{prefix}{name}" in windows]
    try:
        fit = _poisson(data, pd.get_dummies(month, prefix="month", drop_first=True, dtype=float),
                       windows)
        study = pd.DataFrame([_relative(fit, [name], start) for start, name in reported],
                             columns=["week_since_adoption", "effect", "low", "high"])
        _, effect, low, high = _relative(fit, [f"{prefix}steady"], None)
    except (np.linalg.LinAlgError, ValueError, OverflowError) as exc:
        return _too_little(metric_id, f"the model could not be fitted ({exc})", "time series")
    if not all(math.isfinite(v) for v in (effect, low, high)) or high - low > 50:
        return _too_little(metric_id, "too little data: the effect cannot be told apart from "
                           "seasonality", "time series")
    return RolloutEffect(metric_id, effect, low, high, study, data["rep"].nunique(),
                         data["period"].nunique(), _verdict(effect, low, high, steady_from, last),
                         "time series", data.attrs.get("unit", "rep"))


def _poisson(data: pd.DataFrame, *columns: pd.DataFrame) -> object:
    """Counts on a constant, one effect per unit and ``columns``, with exposure as the offset;
    errors clustered by unit."""
    import statsmodels.api as sm

    design = pd.concat([pd.get_dummies(data["rep"], prefix="rep", drop_first=True, dtype=float),
                        *columns], axis=1)
    design.insert(0, "const", 1.0)
    model = sm.GLM(data["numerator"].astype(float), design, family=sm.families.Poisson(),
                   offset=np.log(data["denominator"].astype(float)))
    return model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data["rep"])[0]})


def _relative(fit: object, names: list[str], label: int | None) -> tuple:
    """exp(mean of coefficients) - 1 with its 90% interval (delta on the log scale)."""
    params, cov = fit.params, fit.cov_params()  # type: ignore[attr-defined]
    weights = pd.Series(1.0 / len(names), index=names)
    mean = float((params[names] * weights).sum())
    se = math.sqrt(float(weights @ cov.loc[names, names] @ weights))
    return (label, math.expm1(mean), math.expm1(mean - Z90 * se), math.expm1(mean + Z90 * se))


def _verdict(effect: float, low: float, high: float, first: int, last: int) -> str:
    span = (f"{effect:+.0%} (90% interval {low:+.0%} to {high:+.0%}), "
            f"weeks {first}-{last} after adoption")
    if low > 0:
        return f"the rollout raised it: {span}"
    if high < 0:
        return f"the rollout lowered it: {span}"
    return f"no clear effect: {span}"


def _too_little(metric_id: str, message: str, design: str = "staggered") -> RolloutEffect:
    empty = pd.DataFrame(columns=["week_since_adoption", "effect", "low", "high"])
    return RolloutEffect(metric_id, None, None, None, empty, 0, 0, message, design)
