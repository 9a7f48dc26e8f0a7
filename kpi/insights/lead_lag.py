"""Which levers lead which outputs, by how many weeks, and how sure we can be.

Method: a team x week panel over the trailing ``lookback`` weeks (each rep on their current team,
complete weeks only). The lever is the log of its rate per rep-week; the output is its weekly
value (a rate such as win rate is weighted by its denominator, the deals behind it; a count or
sum is taken per rep-week, on the log scale). For each lag k = 0..12 the lever in week t is paired
with the output in week t + k, and both are taken net of team and week fixed effects (weighted
least squares): team effects remove each team's level, week effects remove seasonality and
anything that hit every team at once. What is left is how a team's lever moved against the
other teams' and whether its output followed k weeks later.

The *lag* is the one with the best out-of-sample fit: the slope is fitted on all teams but one and
predicts the held-out team (leave one team out), scored as an out-of-sample R². The *strength* is
the weighted correlation of the two at that lag. A moving-block bootstrap over weeks (blocks of
four weeks, all teams kept together) gives the 90% interval of the strength and the range of lags
the search picks. The verdict says a lever leads only when the out-of-sample R² is positive and
the interval of the strength excludes zero.

Re-run at each quarter end (``review``), a lever that led last quarter and no longer does is
flagged as having stopped predicting.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.engine import Engine, MetricRequest
from kpi.periods import period_start, quarter_ends

MAX_LAG = 12
BLOCK_WEEKS = 4
MIN_TEAMS, MIN_WEEKS = 3, 20
LOOKBACK_WEEKS = 52
SMOOTH_WEEKS = 3  # the lever is a centred 3-week rate, which keeps its timing and halves its noise
PERMUTATIONS = 199
ALPHA = 0.10


@dataclass(frozen=True)
class LeadLag:
    lever: str
    output: str
    as_of: dt.date
    lag: int | None  # best lag in weeks; None when there is too little data
    lag_low: int | None  # the range of lags the bootstrap picks (90%)
    lag_high: int | None
    strength: float | None  # correlation at the best lag, net of team and week effects
    low: float | None  # its 90% interval
    high: float | None
    oos_r2: float | None  # out-of-sample R² at the best lag (leave one team out)
    p_value: float | None  # chance of a fit this good with the teams' outputs shuffled
    curve: pd.DataFrame  # lag, correlation, oos_r2
    teams: int
    weeks: int
    message: str

    @property
    def headline(self) -> str:
        """The verdict without its numbers."""
        return self.message.split(":")[0]

    @property
    def leads(self) -> bool:
        """The evidence says the lever leads (or moves with) the output."""
        return (self.oos_r2 is not None and self.oos_r2 > 0 and self.p_value is not None
                and self.p_value < ALPHA)


def panel(engine: Engine, metric_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Team x week numerator and denominator (current teams, complete weeks)."""
    frame = engine.run(MetricRequest.make(metric_id, grain="week", by=["team"],
                                          attribution="current", date_from=start, date_to=end))
    frame = frame[~frame["is_partial"].astype(bool)]  # (an empty result holds objects)
    ratio = "numerator" in frame
    return pd.DataFrame({
        "team": frame["team"], "period": pd.to_datetime(frame["period"]),
        "numerator": (frame["numerator"] if ratio else frame["value"]).astype(float),
        "denominator": frame["denominator"].astype(float) if ratio else 1.0})


def window(as_of: dt.date, lookback: int = LOOKBACK_WEEKS) -> tuple[dt.date, dt.date]:
    """The ``lookback`` complete weeks up to ``as_of``."""
    end = period_start(as_of + dt.timedelta(days=1), "week") - dt.timedelta(days=1)
    return end - dt.timedelta(weeks=lookback) + dt.timedelta(days=1), end


def lead_lag(engine: Engine, lever: str, output: str, as_of: dt.date,
             lookback: int = LOOKBACK_WEEKS, boot: int = 300, seed: int = 0,
             panels: dict[str, pd.DataFrame] | None = None) -> LeadLag:
    """The lead of ``lever`` over ``output`` in the ``lookback`` weeks up to ``as_of``.

    ``panels`` (metric -> :func:`panel` over a longer span) saves re-reading the same weeks when
    many pairs or review dates are analysed.
    """
    start, end = window(as_of, lookback)

    def read(metric_id: str) -> pd.DataFrame:
        if panels is None or metric_id not in panels:
            return panel(engine, metric_id, start, end)
        frame = panels[metric_id]
        return frame[(frame["period"] >= pd.Timestamp(start))
                     & (frame["period"] <= pd.Timestamp(end))]

    metric = engine.catalog.get(output)
    return analyse(read(lever), read(output), lever=lever, output=output, as_of=as_of,
                   output_is_rate=metric.is_ratio, output_label=metric.label.lower(), boot=boot,
                   seed=seed)


def analyse(levers: pd.DataFrame, outputs: pd.DataFrame, *, lever: str, output: str,
            as_of: dt.date, output_is_rate: bool, output_label: str = "output",
            boot: int = 300, seed: int = 0, smooth: int = SMOOTH_WEEKS) -> LeadLag:
    """The lead-lag search on two team x week panels (team, period, numerator, denominator)."""
    # weeks before anyone was active are rows without rep-weeks (or closed deals): not a record
    if (levers.empty or outputs.empty or not (levers["denominator"] > 0).any()
            or (output_is_rate and not (outputs["denominator"] > 0).any())):
        return _too_little(lever, output, as_of, 0, 0, "too little data: nothing recorded yet")
    x, y, w = _series(levers, outputs, output_is_rate, smooth)
    weeks, teams = x.shape
    if teams < MIN_TEAMS or int(np.isfinite(x).any(axis=1).sum()) < MIN_WEEKS:
        return _too_little(lever, output, as_of, teams, weeks,
                           f"too little data: at least {MIN_TEAMS} teams and {MIN_WEEKS} weeks "
                           "are needed")
    x_net, y_net = _net_of_effects(x), _net_of_effects(y, w)
    if x_net is None or y_net is None:
        return _too_little(lever, output, as_of, teams, weeks,
                           "too little data: the lever or the output hardly varies")
    x, y = x_net, y_net
    corr, score = _scan(x, y, w, np.ones(weeks))
    best = int(_best(score))
    # one stream for the bootstrap, one for the shuffles: the p-value is the same whatever the
    # number of resamples (the previous review's verdict is computed without any)
    boot_rng, shuffle_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    low, high, lag_low, lag_high = math.nan, math.nan, best, best
    if boot:
        times = np.stack([_block_weights(weeks, boot_rng) for _ in range(boot)])
        boot_corr, boot_score = _scan(x, y, w, times)
        low, high = np.nanpercentile(boot_corr[:, best], [5, 95])
        lag_low, lag_high = np.percentile(_best(boot_score), [5, 95])
    p_value = _permutation_p(x, y, w, float(score[best]), shuffle_rng)
    curve = pd.DataFrame({"lag": range(MAX_LAG + 1), "correlation": corr, "oos_r2": score})
    result = LeadLag(lever, output, as_of, best, int(lag_low), int(lag_high), float(corr[best]),
                     _finite(low), _finite(high), float(score[best]), p_value, curve, teams,
                     weeks, "")
    return _with_message(result, output_label)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _series(levers: pd.DataFrame, outputs: pd.DataFrame, output_is_rate: bool,
            smooth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Week x team: lever (log rate per rep-week), output and the output's weight."""
    lev = levers[levers["denominator"] > 0]
    out = outputs[outputs["denominator"] > 0] if output_is_rate else outputs
    weeks = pd.date_range(min(lev["period"].min(), out["period"].min()),
                          max(lev["period"].max(), out["period"].max()), freq="7D")
    teams = sorted(set(lev["team"]) & set(out["team"]))

    def wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        table = frame.pivot_table(index="period", columns="team", values=column, aggfunc="sum")
        return table.reindex(index=weeks, columns=teams)

    counts, rep_weeks = wide(lev, "numerator"), wide(lev, "denominator")
    window = {"window": smooth, "center": True, "min_periods": 1}
    x = np.log((counts.rolling(**window).sum() + 0.5) / rep_weeks.rolling(**window).sum())
    x = x.where(rep_weeks > 0)
    if output_is_rate:
        y, w = wide(out, "numerator") / wide(out, "denominator"), wide(out, "denominator")
    else:
        y, w = np.log1p(wide(out, "numerator").fillna(0) / rep_weeks), rep_weeks
    return x.to_numpy(float), y.to_numpy(float), w.fillna(0).to_numpy(float)


def _net_of_effects(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray | None:
    """Residuals of a week x team table on team and week fixed effects (weighted least squares,
    solved sparsely with scipy's LSQR so that hundreds of teams stay fast)."""
    from scipy.sparse import csr_matrix, hstack
    from scipy.sparse.linalg import lsqr

    weeks, teams = values.shape
    t, j = np.meshgrid(np.arange(weeks), np.arange(teams), indexing="ij")
    w = np.ones_like(values) if weights is None else weights
    keep = np.isfinite(values) & (w > 0)
    if keep.sum() < MIN_WEEKS or len(np.unique(j[keep])) < MIN_TEAMS:
        return None
    rows, root = np.arange(int(keep.sum())), np.sqrt(w[keep])
    team_part = csr_matrix((root, (rows, j[keep])), shape=(len(rows), teams))
    week_part = csr_matrix((root, (rows, t[keep])), shape=(len(rows), weeks))
    design = hstack([team_part, week_part]).tocsr()
    target = values[keep] * root
    solution = lsqr(design, target, atol=1e-12, btol=1e-12, iter_lim=10_000)[0]
    resid = (target - design @ solution) / root
    if float(np.sum(w[keep] * resid**2)) <= 1e-12:
        return None
    out = np.full(values.shape, np.nan)
    out[keep] = resid
    return out


def _lagged(x: np.ndarray, y: np.ndarray, w: np.ndarray,
            k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lever weeks t and output weeks t + k, missing values as zeros, with the lever's mask."""
    weeks = len(x)
    xs, ys, ws = x[: weeks - k], y[k:], w[k:]
    has_x = np.isfinite(xs)
    ws = np.where(np.isfinite(ys) & (ws > 0), ws, 0.0)
    return np.where(has_x, xs, 0.0), np.where(ws > 0, ys, 0.0), ws, has_x.astype(float)


def _fit_scores(sxy: np.ndarray, sxx: np.ndarray, syy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlation and leave-one-team-out R² from per-team sums (last axis: teams)."""
    txy, txx, tyy = sxy.sum(-1), sxx.sum(-1), syy.sum(-1)
    valid = (txx > 0) & (tyy > 0)
    safe_xx, safe_yy = np.where(valid, txx, 1.0), np.where(valid, tyy, 1.0)
    corr = np.where(valid, txy / np.sqrt(safe_xx * safe_yy), np.nan)
    others = txx[..., None] - sxx
    slope = np.divide(txy[..., None] - sxy, others, out=np.zeros_like(others), where=others > 0)
    sse = (syy - 2 * slope * sxy + slope**2 * sxx).sum(-1)
    return corr, np.where(valid, 1.0 - sse / safe_yy, np.nan)


def _scan(x: np.ndarray, y: np.ndarray, w: np.ndarray,
          times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each lag: the weighted correlation and the leave-one-team-out R².

    ``x``, ``y`` and ``w`` are weeks x teams; ``times`` weights the lever's weeks (1, or a
    bootstrap draw per row when it is 2-D). The result is lags, or draws x lags.
    """
    t2 = times if times.ndim == 2 else times[None]
    corr = np.full((len(t2), MAX_LAG + 1), np.nan)
    score = np.full((len(t2), MAX_LAG + 1), np.nan)
    for k in range(min(MAX_LAG + 1, len(x))):
        xs, ys, ws, has_x = _lagged(x, y, w, k)
        moments = (ws * xs * ys, ws * xs * xs, ws * ys * ys * has_x)
        sxy, sxx, syy = (t2[:, : len(xs)] @ m for m in moments)
        corr[:, k], score[:, k] = _fit_scores(sxy, sxx, syy)
    return (corr, score) if times.ndim == 2 else (corr[0], score[0])


def _best(score: np.ndarray) -> np.ndarray:
    """The lag with the highest score in each row (NaN never wins)."""
    return np.asarray(np.argmax(np.where(np.isnan(score), -np.inf, score), axis=-1))


def _permutation_p(x: np.ndarray, y: np.ndarray, w: np.ndarray, observed: float,
                   rng: np.random.Generator, draws: int = PERMUTATIONS) -> float:
    """Share of team pairings (every lever paired with another team's output) that fit as well.

    Each series keeps its own ups and downs, so two slow-moving series that merely drift together
    do not pass for a lead, and the search over all lags is part of what is tested. For each lag,
    the sums of every lever team against every output team are one matrix product; a pairing
    picks its entries.
    """
    teams = x.shape[1]
    orders = []
    for _ in range(draws):
        order = rng.permutation(teams)
        while np.any(order == np.arange(teams)):
            order = rng.permutation(teams)
        orders.append(order)
    pick = (np.arange(teams)[None, :], np.stack(orders))
    best = np.full(draws, -np.inf)
    for k in range(min(MAX_LAG + 1, len(x))):
        xs, ys, ws, has_x = _lagged(x, y, w, k)
        sxy = (xs.T @ (ws * ys))[pick]
        sxx = ((xs * xs).T @ ws)[pick]
        syy = (has_x.T @ (ws * ys * ys))[pick]
        _, score = _fit_scores(sxy, sxx, syy)
        best = np.maximum(best, np.where(np.isnan(score), -np.inf, score))
    return (int((best >= observed).sum()) + 1) / (draws + 1)


def _block_weights(weeks: int, rng: np.random.Generator) -> np.ndarray:
    """How often each week is drawn in a moving-block bootstrap (blocks of BLOCK_WEEKS)."""
    counts = np.zeros(weeks)
    for first in rng.integers(0, max(weeks - BLOCK_WEEKS, 0) + 1,
                              size=math.ceil(weeks / BLOCK_WEEKS)):
        counts[first:first + BLOCK_WEEKS] += 1
    return counts


def _with_message(result: LeadLag, output_label: str) -> LeadLag:
    from dataclasses import replace

    strength = f"correlation {result.strength:+.2f}" + (
        f" (90% interval {result.low:+.2f} to {result.high:+.2f})"
        if result.low is not None and result.high is not None else "")
    if not result.leads:
        return replace(result, message=(
            f"no evidence it leads: its best lag ({result.lag} weeks) fits no better than pairing "
            f"each team with another team's {output_label} (p = {result.p_value:.2f})"))
    lag = result.lag or 0
    when = "moves with it in the same week" if lag == 0 else f"leads by ~{lag} weeks"
    likely = (f" (likely {result.lag_low}–{result.lag_high})"
              if result.lag_low != result.lag_high else "")
    sign = "" if (result.strength or 0) > 0 else ", in the opposite direction"
    return replace(result, message=f"{when}{likely}{sign}: {strength}, p = {result.p_value:.3f}")


def review(engine: Engine, lever: str, output: str, as_of: dt.date, quarters: int = 4,
           boot: int = 100) -> pd.DataFrame:
    """The analysis as it stood at each of the last quarter ends, oldest first, with a flag for a
    lever that led at the previous review and no longer does."""
    ends = quarter_ends(as_of, quarters)
    first, _ = window(ends[-1])
    _, last = window(ends[0])
    panels = {m: panel(engine, m, first, last) for m in (lever, output)}
    rows, before = [], None
    for end in reversed(ends):
        result = lead_lag(engine, lever, output, end, boot=boot, panels=panels)
        rows.append({"as_of": end, "lag": result.lag, "strength": result.strength,
                     "p_value": result.p_value, "leads": result.leads,
                     "message": result.message,
                     "stopped": before is not None and stopped_predicting(before, result)})
        before = result
    return pd.DataFrame(rows)


def stopped_predicting(before: LeadLag, now: LeadLag) -> bool:
    """It led at the previous review and no longer does."""
    return before.leads and not now.leads


def _too_little(lever: str, output: str, as_of: dt.date, teams: int, weeks: int,
                message: str) -> LeadLag:
    empty = pd.DataFrame(columns=["lag", "correlation", "oos_r2"])
    return LeadLag(lever, output, as_of, None, None, None, None, None, None, None, None, empty,
                   teams, weeks, message)
