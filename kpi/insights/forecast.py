"""Where will the quarter land: revenue and quota attainment at quarter end, with a range, and the
pipeline each segment needs.

Method, as of day D in a quarter that ends on E (h = E - D days left):

- **Booked**: revenue won from the quarter's first day to D (the engine's revenue).
- **Open deals**: each deal open at D, in the stage it had reached by D, wins by E with the
  probability that deals in the same stage, and equally due or not due by the quarter end, were
  won by the quarter end in the last four quarters, seen the same h days before each of their
  ends (so the quarter-end rush is in every window). Company-wide history; a stage with fewer
  than 30 past deals falls back to the stage alone, then to all stages.
- **New deals**: deals not created yet that will be created and won by E. In each of those past
  quarters, the revenue from deals created after the snapshot and won by the quarter end is
  divided by the opportunities created in the four weeks before the snapshot (a lever); today's
  four weeks times the average yield is the expectation.
- **Range**: 4,000 simulated quarters. Each replays one of the last four quarters (its stage
  rates and its new-deal yield, so a good or bad quarter moves all deals together) and wins or
  loses every open deal with those odds. The range is the 10th to 90th percentile. When a
  quarter's open deals are many (tens of thousands), their won revenue is drawn from the normal
  law with the same mean and variance, once the Berry-Esseen bound puts it within 0.005 of the
  simulated one.
- **Coverage per segment**: each segment's remaining quota divided by its own win rate by value
  (last four quarters) is the pipeline it needs; open pipeline due by E against that need.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpi import deals, stages
from kpi.engine import Engine, MetricRequest, Scope
from kpi.people import members, segments_on
from kpi.periods import Window, period_last_day, period_start, quarter_ends

MIN_DEALS = 30
QUARTERS = 4
DRAWS = 4000
SIMULATION_CELLS = 5_000_000  # simulated deal outcomes held in memory at once
LEVER_WEEKS = 4


@dataclass(frozen=True)
class Forecast:
    quarter: Window
    as_of: dt.date
    booked: float
    open_expected: float  # from deals open today
    new_expected: float  # from deals not created yet
    low: float  # 80% range of the quarter's revenue
    high: float
    quota: float | None
    open_deals: int
    created_recently: int  # opportunities created in the last four weeks (the lever)
    by_stage: pd.DataFrame  # stage, deals, amount, win_by_quarter_end, expected
    message: str

    @property
    def expected(self) -> float:
        return self.booked + self.open_expected + self.new_expected

    def attainment(self, value: float) -> float | None:
        return None if not self.quota else value / self.quota


@dataclass(frozen=True)
class PastQuarters:
    """What the last quarters say about deals open as many days before their quarter's end as
    ``day`` is (company-wide, the same for every scope): won and deals by stage and due flag at
    each snapshot, and how many deals that is in all."""

    day: dt.date
    snapshots: tuple[dt.date, ...]
    rates: tuple[dict[tuple[str, bool] | str, tuple[int, int]], ...]
    deals: int


def past_quarters(engine: Engine, day: dt.date) -> PastQuarters:
    """The stage odds of the last quarters for the quarter after ``day`` (the forecast's slow,
    company-wide part: kept after each import, read by every team's forecast)."""
    horizon = (coming_quarter(day).end - day).days
    history = _history(engine, day, horizon)
    snapshots = sorted(set(history["snapshot"]))
    return PastQuarters(day, tuple(snapshots), tuple(
        _stage_rates(history[history["snapshot"] == snap]) for snap in snapshots), len(history))


def forecast(engine: Engine, scope: Scope, day: dt.date, draws: int = DRAWS,
             seed: int = 0, past: PastQuarters | None = None) -> Forecast:
    """The quarter still running after ``day`` (the next one when ``day`` ends a quarter): booked
    so far, expected at its end, and the range (``past``: the stage odds, when already read)."""
    quarter = coming_quarter(day)
    horizon = (quarter.end - day).days
    booked, quota = _booked_and_quota(engine, scope, quarter, day)
    reps = {m.rep_id for m in members(engine.store, scope, day, day)}
    today = _open_at(engine, day, quarter.end, reps)
    if past is None or past.day != day:
        past = past_quarters(engine, day)
    created = deals.created(engine.store, day - dt.timedelta(weeks=LEVER_WEEKS), day, reps)
    yields = _new_deal_yields(engine, day, horizon)
    scenarios = list(past.snapshots)
    lift = _win_rate_lift(engine, day, horizon)
    odds = np.array([_odds(rates, today, lift) for rates in past.rates]).reshape(
        len(scenarios), len(today))
    fallback = float(yields.mean()) if len(yields) else 0.0
    per_deal = np.array([yields.get(snap, fallback) for snap in scenarios])
    today["p"] = odds.mean(axis=0) if len(scenarios) else 0.0
    by_stage = _in_pipeline_order(engine, today.assign(expected=today["p"] * today["amount"])
                                  .groupby("stage", sort=False)
                                  .agg(deals=("opp_id", "size"), amount=("amount", "sum"),
                                       win_by_quarter_end=("p", "mean"),
                                       expected=("expected", "sum"))
                                  .reset_index())
    open_expected = float((today["p"] * today["amount"]).sum())
    new_expected = float(per_deal.mean() * created) if len(scenarios) else 0.0
    low, high = _range(odds, per_deal, today["amount"].to_numpy(float), created, booked, draws,
                       seed)
    message = _message(past.deals, horizon)
    return Forecast(quarter, day, booked, open_expected, new_expected, low, high, quota,
                    len(today), created, by_stage, message)


def coming_quarter(day: dt.date) -> Window:
    """The quarter that contains the day after ``day``."""
    start = period_start(day + dt.timedelta(days=1), "quarter")
    return Window(start, period_last_day(start, "quarter"))


def _booked_and_quota(engine: Engine, scope: Scope, quarter: Window,
                      day: dt.date) -> tuple[float, float | None]:
    frame = engine.run(MetricRequest.make("quota_attainment", grain="total", scope=scope,
                                          date_from=quarter.start, date_to=quarter.end))
    quota = float(frame["denominator"].iloc[0]) if len(frame) else 0.0
    if day < quarter.start:
        return 0.0, (quota if quota > 0 else None)
    won = engine.run(MetricRequest.make("revenue", grain="total", scope=scope,
                                        date_from=quarter.start, date_to=day))
    booked = float(won["value"].iloc[0]) if len(won) and pd.notna(won["value"].iloc[0]) else 0.0
    return booked, (quota if quota > 0 else None)


def _open_at(engine: Engine, day: dt.date, horizon_end: dt.date,
             reps: Collection[str] | None = None) -> pd.DataFrame:
    """Deals open at the end of ``day`` (read in the database), with the open stage they had
    reached by then (the furthest in the pipeline when they entered several that day; won and
    lost stages are told apart by the stages table, not by name), whether they are due by the
    horizon's end and whether they were won by it; only ``reps``' deals (None: everyone's)."""
    frame = deals.open_at(engine.store, day, reps)
    closed = pd.to_datetime(frame["closed_at"])
    due = pd.to_datetime(frame["expected_close_at"])
    stage = frame["stage"].astype(object)
    frame["stage"] = stage.where(stage.notna(), "Open")
    frame["due"] = (due <= pd.Timestamp(horizon_end)).fillna(False).astype(bool)
    frame["won"] = frame["is_won"].astype(bool) & (closed <= pd.Timestamp(horizon_end)).fillna(False)
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _in_pipeline_order(engine: Engine, by_stage: pd.DataFrame) -> pd.DataFrame:
    """Stages as deals move through them (stages without a place, like 'Open', last)."""
    position = stages.read(engine.store).set_index("stage")["position"]
    rank = by_stage["stage"].map(position).astype(float).fillna(float("inf"))
    return by_stage.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


def _snapshots(day: dt.date, horizon: int, quarters: int = QUARTERS) -> list[tuple[dt.date, dt.date]]:
    """(snapshot, its quarter end): the same number of days before each of the last quarter ends,
    so the quarter-end rush is in every window."""
    return [(end - dt.timedelta(days=horizon), end) for end in quarter_ends(day, quarters)]


def _history(engine: Engine, day: dt.date, horizon: int) -> pd.DataFrame:
    """At each snapshot: every open deal's stage, whether it was due by the quarter end, and
    whether it was won by then."""
    frames = []
    for snap, end in _snapshots(day, horizon):
        open_ = _open_at(engine, snap, end)
        if open_.empty:
            continue
        open_["snapshot"] = snap
        frames.append(open_[["snapshot", "stage", "due", "won", "amount"]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["snapshot", "stage", "due", "won", "amount"])


def _stage_rates(history: pd.DataFrame) -> dict[tuple[str, bool] | str, tuple[int, int]]:
    """(won, deals) by stage and due flag, by stage alone, and for all ('*')."""
    rates: dict[tuple[str, bool] | str, tuple[int, int]] = {
        "*": (int(history["won"].sum()), len(history))}
    for stage, group in history.groupby("stage"):
        rates[str(stage)] = (int(group["won"].sum()), len(group))
    for (stage, due), group in history.groupby(["stage", "due"]):
        rates[(str(stage), bool(due))] = (int(group["won"].sum()), len(group))
    return rates


def _rate(rates: dict[Any, tuple[int, int]], stage: str, due: bool) -> float:
    """The most specific rate with at least MIN_DEALS deals behind it (else all deals')."""
    for key in ((stage, due), stage):
        won, n = rates.get(key, (0, 0))
        if n >= MIN_DEALS:
            return won / n
    won, n = rates["*"]
    return won / n if n else 0.0


def _new_deal_yields(engine: Engine, day: dt.date, horizon: int) -> pd.Series:
    """Per snapshot: revenue from deals created after it and won by its quarter end, per
    opportunity created in the four weeks before it."""
    out = {}
    for snap, end in _snapshots(day, horizon):
        before = deals.created(engine.store, snap - dt.timedelta(weeks=LEVER_WEEKS), snap)
        if before == 0:
            continue
        out[snap] = deals.won_after(engine.store, snap, end) / before
    return pd.Series(out, dtype=float)


def _odds(rates: dict[Any, tuple[int, int]], deals: pd.DataFrame, lift: float) -> np.ndarray:
    """Each deal's chance to be won by the quarter end, scaled by the win-rate lift (at most 1)."""
    pairs = pd.MultiIndex.from_arrays([deals["stage"], deals["due"]])
    kinds = pairs.unique()  # a rate per stage and due flag, not per deal
    base = pd.Series([_rate(rates, stage, due) for stage, due in kinds], index=kinds, dtype=float)
    return np.asarray(np.minimum(base.reindex(pairs).to_numpy(float) * lift, 1.0), dtype=float)


def _win_rate_lift(engine: Engine, day: dt.date, horizon: int) -> float:
    """Win rate of deals closed in the last 13 weeks over that of the history's year: the stage
    rates are from the past, and a team that wins more now converts more of today's pipeline."""
    first = _snapshots(day, horizon)[-1][0]

    def rate(start: dt.date, end: dt.date) -> float | None:
        closed, won = deals.closed_and_won(engine.store, start, end)
        return won / closed if closed and closed >= MIN_DEALS else None

    recent = rate(day - dt.timedelta(weeks=13), day)
    past = rate(first, quarter_ends(day, 1)[0])
    return 1.0 if recent is None or not past else recent / past


def _range(odds: np.ndarray, per_deal: np.ndarray, amounts: np.ndarray, created: int,
           booked: float, draws: int, seed: int) -> tuple[float, float]:
    """10th and 90th percentile of simulated quarters: each draw replays one past quarter (its
    stage odds and its new-deal yield) and wins or loses every open deal with those odds.

    A quarter whose open deals are so many that their won revenue is normal to within
    NORMAL_ERROR (the Berry-Esseen bound, :func:`_normal_enough`) draws that revenue from the
    normal law with its exact mean and variance instead of one outcome per deal: the same
    range, without draws x deals random numbers at company scale."""
    if len(odds) == 0:
        return booked, booked
    # a deal no past quarter gives a chance adds nothing to any draw, one every quarter wins
    # adds its amount to all: only the others are drawn
    certain = (odds >= 1).all(axis=0)
    drawn = ~certain & (odds > 0).any(axis=0)
    booked += float(amounts[certain].sum())
    odds, amounts = odds[:, drawn], amounts[drawn]
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(odds), size=draws)
    totals = booked + per_deal[pick] * created
    normal = _normal_enough(odds, amounts)
    exact = np.flatnonzero(~normal[pick])
    chunk = max(1, SIMULATION_CELLS // max(odds.shape[1], 1))  # draws x deals held at once
    for first in range(0, len(exact), chunk):
        rows = exact[first:first + chunk]
        wins = rng.random((len(rows), odds.shape[1])) < odds[pick[rows]]
        totals[rows] += wins @ amounts
    for scenario in np.flatnonzero(normal):
        rows = np.flatnonzero(pick == scenario)
        p = odds[scenario]
        totals[rows] += rng.normal(p @ amounts, math.sqrt(p * (1 - p) @ amounts ** 2), len(rows))
    low, high = np.percentile(totals, [10, 90])
    return float(low), float(high)


# how far (in probability) the normal law may be from the simulated quarter's won revenue: the
# 10th percentile of 4,000 draws is itself uncertain by about 0.005 (sqrt(0.1 * 0.9 / 4000))
NORMAL_ERROR = 0.005
BERRY_ESSEEN = 0.56  # the constant for independent, not identically distributed terms (Shevtsova)


def _normal_enough(odds: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Per past quarter (a row of ``odds``): whether the won revenue of deals won independently
    with those odds is within NORMAL_ERROR of the normal law at every point. Berry-Esseen:
    sup |F - Phi| <= C * sum E|X - EX|^3 / (sum Var X)^(3/2); a deal of amount a won with
    probability p has Var = a^2 p q and E|X - EX|^3 = a^3 p q (p^2 + q^2), q = 1 - p."""
    pq = odds * (1 - odds)
    variance = pq @ amounts ** 2
    third = (pq * (odds ** 2 + (1 - odds) ** 2)) @ np.abs(amounts) ** 3
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = BERRY_ESSEEN * third / variance ** 1.5
    return np.asarray((variance > 0) & (bound <= NORMAL_ERROR), dtype=bool)


def _message(history_rows: int, horizon: int) -> str:
    if history_rows == 0:
        return "no closed history yet: only what is booked is counted"
    return f"{horizon} days left in the quarter"


def coverage(engine: Engine, scope: Scope, day: dt.date) -> pd.DataFrame:
    """Per segment: remaining quota, the win rate by value over the last four quarters, the
    pipeline that needs, and the open pipeline due by quarter end."""
    quarter = coming_quarter(day)
    year = Window(quarter.start - dt.timedelta(days=365), day)
    by = ["segment"]
    quota = engine.run(MetricRequest.make("quota_attainment", grain="total", by=by, scope=scope,
                                          date_from=quarter.start, date_to=quarter.end))
    booked = engine.run(MetricRequest.make("revenue", grain="total", by=by, scope=scope,
                                           date_from=quarter.start, date_to=max(day, quarter.start)))
    if day < quarter.start:
        booked = booked.iloc[0:0]
    wins = engine.run(MetricRequest.make("win_rate_value", grain="total", by=by, scope=scope,
                                         date_from=year.start, date_to=year.end))
    reps = {m.rep_id for m in members(engine.store, scope, day, day)}
    today = _open_at(engine, day, quarter.end, reps)
    segment_of = segments_on(engine.store, day)
    today = today[today["due"]]
    pipeline = today.groupby(today["rep_id"].map(segment_of))["amount"].sum()
    table = pd.DataFrame({"segment": sorted(set(quota["segment"]) | set(wins["segment"]))})
    table["quota"] = table["segment"].map(quota.set_index("segment")["denominator"])
    table["booked"] = table["segment"].map(booked.set_index("segment")["value"]).fillna(0.0)
    table["remaining"] = (table["quota"] - table["booked"]).clip(lower=0)
    table["win_rate"] = table["segment"].map(wins.set_index("segment")["value"])
    table["needed_coverage"] = 1 / table["win_rate"].where(table["win_rate"] > 0)
    table["pipeline_needed"] = table["remaining"] * table["needed_coverage"]
    table["open_pipeline"] = table["segment"].map(pipeline).fillna(0.0)
    table["coverage"] = table["open_pipeline"] / table["remaining"].where(table["remaining"] > 0)
    table["gap"] = (table["pipeline_needed"] - table["open_pipeline"]).clip(lower=0)
    return table[table["quota"].notna() | (table["open_pipeline"] > 0)].reset_index(drop=True)


def backtest(engine: Engine, scope: Scope, days: list[dt.date], draws: int = 1000) -> pd.DataFrame:
    """The forecast made on each of ``days`` against what the quarter really booked."""
    rows = []
    for day in days:
        result = forecast(engine, scope, day, draws=draws)
        actual = engine.run(MetricRequest.make("revenue", grain="total", scope=scope,
                                               date_from=result.quarter.start,
                                               date_to=result.quarter.end))
        value = float(actual["value"].iloc[0]) if len(actual) else math.nan
        rows.append({"as_of": day, "quarter_end": result.quarter.end,
                     "expected": result.expected, "low": result.low, "high": result.high,
                     "actual": value, "inside": result.low <= value <= result.high})
    return pd.DataFrame(rows)
