"""A seeded demo company with known ground truth.

A B2B org (executive, managers with teams, reps in three regions, accounts in nine industries) runs
two years of daily activities and opportunities. Halfway through, a strategy rolls out: the org is
reorganised from regional generalists into industry teams with hunters and farmers, and teams adopt
the new way of selling on staggered dates. Levers move first (new-prospect meetings, demos,
proposals, opportunities), outputs follow with a lag (win rate, cycle length). Every injected effect
is written to ``demo_truth`` so analyses can be tested against the truth.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpi import rollups
from kpi.stages import Evidence, StageList, stage_table
from kpi.store import DuckDBStore

START = dt.date(2024, 10, 1)
REGIONS = ("East", "Central", "West")
INDUSTRIES = ("Technology", "Healthcare", "Financial Services", "Manufacturing", "Retail",
              "Energy", "Education", "Logistics", "Media")
FOCUS = ("Technology", "Healthcare", "Financial Services")
TEAM_NAMES = ("Atlas", "Borealis", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor",
              "Iris", "Juniper", "Kestrel", "Lumen")
STAGES = ("Prospecting", "Qualification", "Demo", "Proposal", "Negotiation")
PRODUCTS = {  # name -> (list price, cost share)
    "Core": (12_000, 0.30), "Analytics": (25_000, 0.28), "Platform": (60_000, 0.35),
    "Support": (8_000, 0.45), "Enterprise Suite": (120_000, 0.38),
}
PRODUCT_WEIGHTS = (0.34, 0.26, 0.2, 0.12, 0.08)
FIRST = ("Ada", "Ben", "Cara", "Dev", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kai", "Lena",
         "Milo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wen", "Xavi",
         "Yara", "Zane", "Aiko", "Bruno", "Chen", "Dara")
LAST = ("Abbott", "Baker", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
        "Khan", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tanaka",
        "Ueda", "Vargas", "Walsh", "Xu", "Yilmaz", "Zimmer")

# (rate per rep working day, effect of the strategy, lag weeks, ramp weeks)
ACTIVITY_RATES = {
    "call": (5.0, 0.0, 0, 0),
    "email": (6.0, 0.0, 0, 0),
    "meeting": (1.2, 0.0, 0, 0),
    "prospect_meeting": (0.8, 0.40, 0, 4),
    "demo": (0.5, 0.25, 2, 4),
    "proposal": (0.3, 0.20, 4, 4),
}
OPPS_PER_DAY, OPPS_EFFECT, OPPS_LAG, OPPS_RAMP = 0.30, 0.15, 3, 4
BASE_WIN, WIN_EFFECT, WIN_LAG, WIN_RAMP = 0.24, 0.25, 8, 6
CYCLE_MEDIAN, CYCLE_EFFECT, CYCLE_LAG = 55.0, -0.10, 6
ADOPTION_GAP_WEEKS = 3
# Once every team has adopted, how hard a team works the new playbook swings from week to week
# (a persistent, team-level multiplier of the strategy's effect with mean 1). Each lever follows
# the swing at its own lag and win rate follows it WIN_LAG weeks later, so levers lead the output
# beyond the single rollout step.
SWING_SD, SWING_PERSISTENCE = 1.0, 0.7
MONTH_SEASON = {8: 0.8, 12: 0.75, 1: 0.95, 3: 1.05, 6: 1.05, 9: 1.05}


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 7
    reps: int = 48
    years: int = 2
    start: dt.date = START

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=365 * self.years - 1)

    @property
    def warmup_start(self) -> dt.date:
        """Simulation starts half a year early so the first quarter has a realistic pipeline."""
        return self.start - dt.timedelta(days=182)

    @property
    def teams(self) -> int:
        return max(2, min(len(TEAM_NAMES), round(self.reps / 8)))

    @property
    def rollout(self) -> dt.date:
        """The official rollout: the first Monday at the middle of the data."""
        mid = self.start + dt.timedelta(days=(self.end - self.start).days // 2)
        return mid + dt.timedelta(days=(7 - mid.weekday()) % 7)


def build(path: str | Path, config: DemoConfig | None = None) -> dict[str, int]:
    """Write the demo database to ``path`` atomically (a temp file renamed at the end)."""
    config = config or DemoConfig()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        tables = generate(config)
        with DuckDBStore.create(tmp) as store, store.transaction():
            counts = {name: store.insert_frame(name, frame) for name, frame in tables.items()}
            rollups.refresh(store)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return counts


def generate(config: DemoConfig) -> dict[str, pd.DataFrame]:
    """All canonical tables of the demo company, as DataFrames in load order."""
    rng = np.random.default_rng(config.seed)
    org = _org(config, rng)
    accounts = _accounts(rng, config)
    days = pd.date_range(config.warmup_start, config.end, freq="D")
    grid = _rep_day_grid(org, days, config, rng)
    activities = _activities(grid[grid["day"] >= pd.Timestamp(config.start)], org, accounts, rng)
    opps, history = _opportunities(grid, org, accounts, config, rng)
    return {
        "teams": org.teams, "reps": org.reps, "rep_assignments": org.assignments,
        "users": _users(org), "accounts": accounts, "opportunities": opps,
        "stage_history": history, "stages": _stages(), "activities": activities,
        "quotas": _quotas(org, config),
        **_initiative(org, config),
    }


@dataclass
class _Org:
    teams: pd.DataFrame
    reps: pd.DataFrame
    assignments: pd.DataFrame
    adoption: dict[str, dt.date]  # team_id -> adoption date
    skill: dict[str, float]
    segment: dict[str, str]  # team_id -> focus industry after the reorg
    swing: pd.Series  # (team_id, week start) -> how hard the team works the playbook, mean 1

    def swing_at(self, team: pd.Series, day: pd.Series, lag: int) -> np.ndarray:
        """The team's swing ``lag`` weeks before ``day`` (1 where there is none)."""
        week = (pd.to_datetime(day) - pd.to_timedelta(lag, unit="W")).dt.to_period("W").dt.start_time
        keys = pd.MultiIndex.from_arrays([team.to_numpy(), week.to_numpy()])
        return np.asarray(self.swing.reindex(keys).fillna(1.0).to_numpy())


def _org(config: DemoConfig, rng: np.random.Generator) -> _Org:
    n_teams = config.teams
    team_ids = [f"T{i + 1}" for i in range(n_teams)]
    teams = pd.DataFrame({
        "team_id": team_ids, "name": list(TEAM_NAMES[:n_teams]),
        "manager_id": [f"mgr-{t.lower()}" for t in team_ids],
    })
    region_of = {t: REGIONS[i % len(REGIONS)] for i, t in enumerate(team_ids)}
    segment_of = {t: FOCUS[i % len(FOCUS)] for i, t in enumerate(team_ids)}
    adoption = {t: config.rollout + dt.timedelta(weeks=ADOPTION_GAP_WEEKS * i)
                for i, t in enumerate(team_ids)}
    names = _unique_names(rng, config.reps * 3)
    reps: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    skill: dict[str, float] = {}
    for slot in range(config.reps):
        before = team_ids[slot % n_teams]
        moved = rng.random() < 0.25
        after = team_ids[int(rng.integers(n_teams))] if moved else before
        motion = "hunter" if rng.random() < 0.5 else "farmer"
        for hire, leave in _tenures(config, rng):
            rep_id = f"R{len(reps) + 1:03d}"
            name = names[len(reps)]
            reps.append((rep_id, name, _email(name), hire, leave))
            skill[rep_id] = float(rng.lognormal(0.0, 0.25))
            assignments += _assignment_rows(rep_id, hire, leave, config.rollout,
                                            (before, region_of[before]),
                                            (after, region_of[after], segment_of[after], motion))
    reps_df = pd.DataFrame(reps, columns=["rep_id", "name", "email", "hire_date", "end_date"])
    assign_df = pd.DataFrame(assignments, columns=["rep_id", "team_id", "region", "segment",
                                                   "motion", "valid_from", "valid_to"])
    return _Org(teams, reps_df, assign_df, adoption, skill, segment_of,
                _swings(config, adoption, np.random.default_rng([config.seed, 1])))


def _swings(config: DemoConfig, adoption: dict[str, dt.date],
            rng: np.random.Generator) -> pd.Series:
    """Weekly AR(1) swings per team on the log scale, from the last adoption to the end, scaled
    to average 1 over that time for each team."""
    weeks = pd.period_range(max(adoption.values()), config.end, freq="W").start_time
    if len(weeks) == 0:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=[None, None]))
    frames = []
    for team in adoption:
        shocks = rng.normal(size=len(weeks)) * np.sqrt(1 - SWING_PERSISTENCE**2)
        z = np.empty(len(weeks))
        for i in range(len(weeks)):
            z[i] = SWING_PERSISTENCE * z[i - 1] + shocks[i] if i else shocks[0] / np.sqrt(
                1 - SWING_PERSISTENCE**2)
        swing = np.exp(SWING_SD * z)
        frames.append(pd.Series(swing / swing.mean(),  # the injected effect holds on average
                                index=pd.MultiIndex.from_product([[team], weeks])))
    return pd.concat(frames)


def _tenures(config: DemoConfig, rng: np.random.Generator) -> list[tuple[dt.date, dt.date | None]]:
    """A seat's sequence of reps: ~15% yearly attrition, a vacancy, then a new hire."""
    hire = config.warmup_start - dt.timedelta(days=int(rng.integers(60, 5 * 365)))
    tenures = []
    while True:
        stay = dt.timedelta(days=int(rng.exponential(365 / 0.15)))
        leave = hire + stay if hire + stay < config.end else None
        if leave is not None and leave < config.warmup_start:
            hire = leave + dt.timedelta(days=1)
            continue
        tenures.append((hire, leave))
        if leave is None:
            return tenures
        hire = leave + dt.timedelta(days=int(rng.integers(20, 60)))
        if hire > config.end:
            return tenures


def _assignment_rows(rep_id: str, hire: dt.date, leave: dt.date | None, rollout: dt.date,
                     before: tuple[str, str], after: tuple[str, str, str, str]) -> list[tuple[Any, ...]]:
    """Regional generalist until the reorg at rollout, then an industry team as hunter or farmer.

    A rep's last assignment stays open after they leave, so deals that close after a departure are
    still credited to the team the rep sold for.
    """
    post = (rep_id, after[0], after[1], after[2], after[3])
    if hire >= rollout:
        return [(*post, hire, None)]
    pre = (rep_id, before[0], before[1], "generalist", "generalist", hire)
    if leave is not None and leave < rollout:
        return [(*pre, None)]
    return [(*pre, rollout), (*post, rollout, None)]


def _unique_names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [f"{f} {last}" for f in FIRST for last in LAST]
    picks = rng.choice(len(pairs), size=min(n, len(pairs)), replace=False)
    names = [pairs[i] for i in picks]
    return names + [f"Rep {i}" for i in range(len(names), n)]


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.com"


def _accounts(rng: np.random.Generator, config: DemoConfig) -> pd.DataFrame:
    n = max(120, config.reps * 12)
    industry = rng.choice(len(INDUSTRIES), size=n)
    return pd.DataFrame({
        "account_id": [f"A{i + 1:04d}" for i in range(n)],
        "name": [f"{INDUSTRIES[k].split()[0]} Co {i + 1:04d}" for i, k in enumerate(industry)],
        "industry": [INDUSTRIES[k] for k in industry],
        "region": [REGIONS[k] for k in rng.choice(len(REGIONS), size=n)],
        "employees": rng.lognormal(6.0, 1.2, size=n).astype(int) + 5,
    })


def _ramp(weeks_since: np.ndarray, effect: float, lag: int, ramp: int,
          swing: np.ndarray | float = 1.0) -> np.ndarray:
    """Multiplier 1 + effect x swing, reached linearly over ``ramp`` weeks after a ``lag``."""
    if effect == 0:
        return np.ones_like(weeks_since, dtype=float)
    progress = (weeks_since - lag) / max(ramp, 1e-9) if ramp else (weeks_since >= lag) * 1.0
    return 1.0 + effect * np.clip(progress, 0.0, 1.0) * swing


def _rep_day_grid(org: _Org, days: pd.DatetimeIndex, config: DemoConfig,
                  rng: np.random.Generator) -> pd.DataFrame:
    """One row per rep per working day they were employed, with the multipliers that drive them."""
    frames = []
    for rep in org.reps.itertuples():
        active = days[(days.date >= rep.hire_date) & (days.day_of_week < 5)]
        if rep.end_date is not None:
            active = active[active.date <= rep.end_date]
        if len(active) == 0:
            continue
        tenure_weeks = (active - pd.Timestamp(rep.hire_date)).days / 7
        frames.append(pd.DataFrame({
            "rep_id": rep.rep_id, "day": active,
            "base": org.skill[rep.rep_id] * np.clip(0.5 + tenure_weeks / 16, 0.5, 1.0),
        }))
    grid = pd.concat(frames, ignore_index=True)
    team = _team_on(grid, org.assignments)
    adopt = team.map({t: pd.Timestamp(d) for t, d in org.adoption.items()})
    after_reorg = grid["day"] >= pd.Timestamp(config.rollout)
    grid["team_id"] = team
    grid["weeks_since"] = np.where(after_reorg, (grid["day"] - adopt).dt.days / 7, -999.0)
    grid["season"] = grid["day"].dt.month.map(MONTH_SEASON).fillna(1.0).to_numpy()
    grid["noise"] = rng.lognormal(0.0, 0.15, size=len(grid))
    return grid


def _team_on(grid: pd.DataFrame, assignments: pd.DataFrame) -> pd.Series:
    merged = grid[["rep_id", "day"]].reset_index().merge(assignments, on="rep_id")
    vf = pd.to_datetime(merged["valid_from"])
    vt = pd.to_datetime(merged["valid_to"]).fillna(pd.Timestamp("2200-01-01"))
    hit = merged[(merged["day"] >= vf) & (merged["day"] < vt)]
    return hit.set_index("index")["team_id"].reindex(grid.index)


def _activities(grid: pd.DataFrame, org: _Org, accounts: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    base = grid["base"].to_numpy() * grid["season"].to_numpy() * grid["noise"].to_numpy()
    weeks = grid["weeks_since"].to_numpy()
    for kind, (rate, effect, lag, ramp) in ACTIVITY_RATES.items():
        swing = org.swing_at(grid["team_id"], grid["day"], lag)
        counts = rng.poisson(rate * base * _ramp(weeks, effect, lag, ramp, swing))
        rows = np.repeat(np.arange(len(grid)), counts)
        parts.append(pd.DataFrame({
            "rep_id": grid["rep_id"].to_numpy()[rows],
            "occurred_at": grid["day"].to_numpy()[rows]
            + pd.to_timedelta(rng.integers(8 * 60, 18 * 60, size=len(rows)), unit="min"),
            "type": "meeting" if kind == "prospect_meeting" else kind,
            "new_prospect": kind == "prospect_meeting",
        }))
    acts = pd.concat(parts, ignore_index=True).sort_values(["occurred_at", "rep_id"], kind="stable")
    acts["account_id"] = accounts["account_id"].to_numpy()[
        rng.integers(len(accounts), size=len(acts))]
    acts["opp_id"] = None
    acts["activity_id"] = [f"ACT{i:07d}" for i in range(1, len(acts) + 1)]
    return acts.reset_index(drop=True)


def _opportunities(grid: pd.DataFrame, org: _Org, accounts: pd.DataFrame, config: DemoConfig,
                   rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    weeks = grid["weeks_since"].to_numpy()
    rate = OPPS_PER_DAY * grid["base"].to_numpy() * grid["season"].to_numpy()
    swing = org.swing_at(grid["team_id"], grid["day"], OPPS_LAG)
    counts = rng.poisson(rate * _ramp(weeks, OPPS_EFFECT, OPPS_LAG, OPPS_RAMP, swing))
    src = grid.iloc[np.repeat(np.arange(len(grid)), counts)].reset_index(drop=True)
    n = len(src)
    created = src["day"]
    cycle = rng.lognormal(np.log(CYCLE_MEDIAN), 0.5, size=n)
    cycle *= _ramp(src["weeks_since"].to_numpy(), CYCLE_EFFECT, CYCLE_LAG, 0)
    closed = created + pd.to_timedelta(np.maximum(np.round(cycle), 1), unit="D")
    closed = _quarter_end_push(closed, created, rng)
    adopt = src["team_id"].map({t: pd.Timestamp(d) for t, d in org.adoption.items()})
    weeks_at_close = np.where(closed >= pd.Timestamp(config.rollout),
                              (closed - adopt).dt.days / 7, -999.0)
    skill = src["rep_id"].map(org.skill).to_numpy()
    swing = org.swing_at(src["team_id"], closed, WIN_LAG)
    p_win = BASE_WIN * skill**0.3 * _ramp(weeks_at_close, WIN_EFFECT, WIN_LAG, WIN_RAMP, swing)
    won = rng.random(n) < np.minimum(p_win, 0.95)
    product_idx = rng.choice(len(PRODUCTS), size=n, p=PRODUCT_WEIGHTS)
    price = np.array([p for p, _ in PRODUCTS.values()])[product_idx]
    cost_share = np.array([c for _, c in PRODUCTS.values()])[product_idx]
    amount = np.round(price * rng.lognormal(0.0, 0.35, size=n), -1)
    end = pd.Timestamp(config.end)
    keep = (closed >= pd.Timestamp(config.start)).to_numpy()
    src, created, closed, won, amount = src[keep].reset_index(drop=True), \
        created[keep].reset_index(drop=True), closed[keep].reset_index(drop=True), won[keep], \
        amount[keep]
    product_idx, cost_share, n = product_idx[keep], cost_share[keep], int(keep.sum())
    is_closed = (closed <= end).to_numpy()
    reached = np.where(won, len(STAGES), rng.integers(1, len(STAGES), size=n))
    opps = pd.DataFrame({
        "opp_id": [f"OPP{i:06d}" for i in range(1, n + 1)],
        "rep_id": src["rep_id"],
        "account_id": _pick_accounts(src, accounts, org.segment, config, rng),
        "created_at": created.dt.date,
        "closed_at": closed.dt.date.where(is_closed, None),
        "expected_close_at": (created + pd.to_timedelta(
            np.round(rng.lognormal(np.log(CYCLE_MEDIAN), 0.3, size=n)), unit="D")).dt.date,
        "is_closed": is_closed,
        "is_won": won & is_closed,
        "amount": amount,
        "cost": np.round(amount * cost_share * rng.lognormal(0.0, 0.1, size=n), -1),
        "product": np.array(list(PRODUCTS))[product_idx],
        "kind": np.where(rng.random(n) < 0.6, "new", "expansion"),
    })
    history, last_stage = _stage_history(opps, created, closed, reached, end)
    opps["stage"] = np.where(~is_closed, last_stage,
                             np.where(opps["is_won"], "Closed Won", "Closed Lost"))
    return opps, history


def _quarter_end_push(closed: pd.Series, created: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Deals due in a quarter's first ten days are often pulled into the previous quarter's end."""
    day_in_quarter = (closed - closed.dt.to_period("Q").dt.start_time).dt.days
    pulled = (day_in_quarter < 10) & (rng.random(len(closed)) < 0.4)
    earlier = closed - pd.to_timedelta(day_in_quarter + 1, unit="D")
    return closed.where(~pulled | (earlier <= created), earlier)


def _pick_accounts(src: pd.DataFrame, accounts: pd.DataFrame, segment: dict[str, str],
                   config: DemoConfig, rng: np.random.Generator) -> np.ndarray:
    """Industry teams sell mostly into their focus industry after the reorg."""
    ids = accounts["account_id"].to_numpy()
    picks = ids[rng.integers(len(ids), size=len(src))]
    focused = (src["day"] >= pd.Timestamp(config.rollout)).to_numpy() & (rng.random(len(src)) < 0.6)
    for team, industry in segment.items():
        pool = ids[(accounts["industry"] == industry).to_numpy()]
        mask = focused & (src["team_id"] == team).to_numpy()
        picks[mask] = pool[rng.integers(len(pool), size=int(mask.sum()))]
    return np.asarray(picks)


def _stage_history(opps: pd.DataFrame, created: pd.Series, closed: pd.Series, reached: np.ndarray,
                   end: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray]:
    """Stages entered evenly over the cycle, up to the furthest stage reached (and today)."""
    span = (closed - created).dt.days.to_numpy()
    rows, last = [], np.full(len(opps), STAGES[0], dtype=object)
    for i, stage in enumerate(STAGES):
        entered = created + pd.to_timedelta(np.floor(span * i / len(STAGES)), unit="D")
        mask = (reached > i) & (entered <= end).to_numpy()
        last[mask] = stage
        rows.append(pd.DataFrame({"opp_id": opps["opp_id"][mask], "stage": stage,
                                  "entered_at": entered[mask].dt.date}))
    done = (closed <= end).to_numpy()
    rows.append(pd.DataFrame({
        "opp_id": opps["opp_id"][done],
        "stage": np.where(opps["is_won"][done], "Closed Won", "Closed Lost"),
        "entered_at": closed[done].dt.date,
    }))
    return pd.concat(rows, ignore_index=True), last


def _stages() -> pd.DataFrame:
    """The demo CRM's stage list, as a CRM states it; roles follow the rule every import uses
    (qualifying stage: Qualification, proposal stage: Proposal)."""
    stated = pd.DataFrame({"stage": [*STAGES, "Closed Won", "Closed Lost"],
                           "outcome": ["open"] * len(STAGES) + ["won", "lost"]})
    return stage_table(Evidence.none(), [StageList(stated, "demo", defines=True)])


def _quotas(org: _Org, config: DemoConfig) -> pd.DataFrame:
    """Quarterly rep quotas, prorated for partial tenure, 10% higher each year; the quarter after
    the data ends is already set, as it would be in a real company."""
    avg_price = sum(p * w for (p, _), w in zip(PRODUCTS.values(), PRODUCT_WEIGHTS, strict=True))
    per_day = OPPS_PER_DAY * BASE_WIN * avg_price * np.exp(0.35**2 / 2) * 5 / 7 * 1.1
    rows = []
    for q in pd.period_range(config.start, config.end + dt.timedelta(days=92), freq="Q"):
        q_start, q_end = q.start_time.date(), q.end_time.date()
        growth = 1.1 ** ((q_start - config.start).days // 365)
        for rep in org.reps.itertuples():
            lo = max(q_start, rep.hire_date)
            hi = min(q_end, rep.end_date or q_end)
            if lo > hi:
                continue
            amount = round(per_day * growth * ((hi - lo).days + 1), -3)
            rows.append((f"Q-{rep.rep_id}-{q}", rep.rep_id, None, lo, hi, float(amount)))
    return pd.DataFrame(rows, columns=["quota_id", "rep_id", "team_id", "period_start",
                                       "period_end", "amount"])


def _users(org: _Org) -> pd.DataFrame:
    rows = [("admin", "Avery Admin", "admin@example.com", "admin", None, None),
            ("exec", "Morgan Hale", "morgan.hale@example.com", "executive", None, None)]
    for team in org.teams.itertuples():
        name = f"{team.name} Manager"
        rows.append((team.manager_id, name, _email(name), "manager", None, team.team_id))
    for rep in org.reps.itertuples():
        if rep.end_date is None:
            rows.append((f"rep-{rep.rep_id.lower()}", rep.name, rep.email, "rep", rep.rep_id, None))
    frame = pd.DataFrame(rows, columns=["user_id", "name", "email", "role", "rep_id", "team_id"])
    frame["password_hash"] = None
    return frame


def _initiative(org: _Org, config: DemoConfig) -> dict[str, pd.DataFrame]:
    iid = "focus-2025"
    rollout = config.rollout
    review = rollout + dt.timedelta(weeks=13)
    now = pd.Timestamp(config.start)
    initiatives = pd.DataFrame([{
        "initiative_id": iid, "name": "Win rate +25% through focus",
        "strategy": "Raise win rate by 25% within a year by selling where we win: Technology, "
                    "Healthcare and Financial Services.",
        "tactics": "Industry teams with hunters and farmers; +40% meetings with new prospects and "
                   "+25% demos per rep-week.",
        "rollout_date": rollout, "baseline_weeks": 13,
        "target_date": rollout + dt.timedelta(weeks=52), "created_at": now,
    }])
    teams = pd.DataFrame({"initiative_id": iid, "team_id": list(org.adoption),
                          "adopted_on": list(org.adoption.values())})
    targets = pd.DataFrame([
        (f"{iid}-1", iid, "win_rate", 0.25, rollout, now, "launch target"),
        (f"{iid}-2", iid, "new_prospect_meetings", 0.40, rollout, now, "launch target"),
        (f"{iid}-3", iid, "demos", 0.25, rollout, now, "launch target"),
        (f"{iid}-4", iid, "new_prospect_meetings", 0.35, review, pd.Timestamp(review),
         "Q1 review: ramp slower than planned for late-adopting teams"),
    ], columns=["target_id", "initiative_id", "metric_id", "change_pct", "effective_from",
                "recorded_at", "note"])
    reviews = pd.DataFrame([{
        "review_id": f"{iid}-r1", "initiative_id": iid, "review_date": review,
        "learned": "Prospect meetings are up in early teams; win rate not yet moving, as expected.",
        "author": "Morgan Hale", "recorded_at": pd.Timestamp(review),
    }]) if review <= config.end else pd.DataFrame(columns=[
        "review_id", "initiative_id", "review_date", "learned", "author", "recorded_at"])
    return {"initiatives": initiatives, "initiative_teams": teams,
            "initiative_targets": targets, "reviews": reviews, "demo_truth": _truth(org)}


def _truth(org: _Org) -> pd.DataFrame:
    share = ACTIVITY_RATES["prospect_meeting"][0] / (
        ACTIVITY_RATES["prospect_meeting"][0] + ACTIVITY_RATES["meeting"][0])
    effects = [
        ("new_prospect_meetings", 0.40, 0, 4, "more meetings with new prospects"),
        ("meetings", 0.40 * share, 0, 4, "only the new-prospect share of meetings grows"),
        ("demos", 0.25, 2, 4, "more demos"),
        ("proposals_sent", 0.20, 4, 4, "more proposals"),
        ("opps_created", OPPS_EFFECT, OPPS_LAG, OPPS_RAMP, "more opportunities"),
        ("calls", 0.0, 0, 0, "no effect: a lever the strategy does not touch"),
        ("win_rate", WIN_EFFECT, WIN_LAG, WIN_RAMP, "win probability, by close date"),
        ("sales_cycle_days", CYCLE_EFFECT, CYCLE_LAG, 0,
         "by creation date; read by close date it shows about one cycle later"),
    ]
    return pd.DataFrame([
        (metric, team, adopted, effect, lag, ramp, note)
        for metric, effect, lag, ramp, note in effects for team, adopted in org.adoption.items()
    ], columns=["metric_id", "team_id", "adopted_on", "effect_pct", "lag_weeks", "ramp_weeks",
                "note"])
