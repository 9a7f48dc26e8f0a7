"""Seeded random small companies, built to hit the engine's edge cases.

Each seed gives the same company: 2-4 teams (some may stay empty), 2-8 reps who join and leave
mid-period, reorganisations (team, region, segment or motion changes on any day, gaps between
assignments, a move scheduled after the data ends), a quiet stretch with no events at all (empty
periods), open deals with and without an expected close, deals created and closed on the first or
last day of a week, month, quarter or year, deals without cost, account or product, rep quotas by
month, quarter or an odd span (and team quotas), activities of every type at midnight and just
before it, and stage history with re-entries.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pandas as pd

from kpi.stages import refresh
from kpi.store import DuckDBStore, Store

REGIONS = ("East", "West", "North")
SEGMENTS = ("generalist", "Retail", "Health", "Finance")
MOTIONS = ("hunter", "farmer", "generalist")
INDUSTRIES = ("Retail", "Health", "Finance", "Energy")
PRODUCTS = ("Core", "Plus", "Suite")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "proposal", "linkedin")
PIPELINES = (  # open stages in the order deals move through them
    ("Qualification", "Proposal", "Negotiation"),
    ("Prospecting", "Qualification", "Discovery", "Proposal/Price Quote", "Negotiation"),
    ("Engaging",),  # one open stage: nothing to convert between
)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Company:
    """One generated company: its canonical tables and the request range that suits it."""

    seed: int
    tables: dict[str, pd.DataFrame]
    date_from: dt.date
    date_to: dt.date

    @property
    def team_ids(self) -> list[str]:
        return self.tables["teams"]["team_id"].tolist()

    @property
    def rep_ids(self) -> list[str]:
        return self.tables["reps"]["rep_id"].tolist()

    def store(self) -> Store:
        """A fresh in-memory database holding the company, its stages derived as after an import."""
        store = DuckDBStore.create()
        with store.transaction():
            for table, frame in self.tables.items():
                if len(frame):
                    store.insert_frame(table, frame)
            refresh(store)
        return store


def boundaries(lo: dt.date, hi: dt.date) -> list[dt.date]:
    """First and last days of every week, month, quarter and year between lo and hi."""
    days = []
    day = lo
    while day <= hi:
        nxt = day + DAY
        if day.weekday() in (0, 6) or day.day == 1 or nxt.day == 1:
            days.append(day)
        day = nxt
    return days  # quarter and year edges are month edges too


class _Draw:
    """Random days that favour period edges and avoid the quiet stretch."""

    def __init__(self, rng: random.Random, lo: dt.date, hi: dt.date) -> None:
        self.rng = rng
        self.lo, self.hi = lo, hi
        self.edges = boundaries(lo, hi)
        quiet_start = lo + dt.timedelta(days=rng.randint(40, max(41, (hi - lo).days - 60)))
        self.quiet = (quiet_start, quiet_start + dt.timedelta(days=rng.randint(35, 70))) \
            if rng.random() < 0.8 else None

    def day(self, lo: dt.date | None = None, hi: dt.date | None = None) -> dt.date:
        lo, hi = lo or self.lo, hi or self.hi
        if lo > hi:
            return lo
        for _ in range(20):
            edges = [e for e in self.edges if lo <= e <= hi] if self.rng.random() < 0.35 else []
            day = self.rng.choice(edges) if edges else lo + dt.timedelta(
                days=self.rng.randint(0, (hi - lo).days))
            if self.quiet is None or not self.quiet[0] <= day <= self.quiet[1]:
                return day
        return day


def generate(seed: int) -> Company:
    """The company of this seed (pure function of the seed)."""
    rng = random.Random(seed)
    start = dt.date(rng.choice((2023, 2024, 2025)), rng.randint(1, 12), 1) + dt.timedelta(
        days=rng.choice((0, 0, rng.randint(1, 27))))
    end = start + dt.timedelta(days=rng.randint(150, 400))
    draw = _Draw(rng, start - dt.timedelta(days=60), end)
    teams = _teams(rng)
    reps, assignments = _reps(rng, draw, teams, start, end)
    accounts = _accounts(rng)
    pipeline = rng.choice(PIPELINES)
    opps = _opportunities(rng, draw, reps, accounts, end, pipeline)
    tables = {
        "teams": teams, "reps": reps, "rep_assignments": assignments, "accounts": accounts,
        "opportunities": opps, "stage_history": _stage_history(rng, draw, opps, end, pipeline),
        "activities": _activities(rng, draw, reps, accounts, opps),
        "quotas": _quotas(rng, reps, teams, start, end),
    }
    date_from = rng.choice((start, start + dt.timedelta(days=rng.randint(1, 40)),
                            rng.choice(boundaries(start, start + dt.timedelta(days=40)))))
    date_to = min(end, date_from + dt.timedelta(days=rng.randint(90, 330)))
    return Company(seed, tables, date_from, date_to)


def _teams(rng: random.Random) -> pd.DataFrame:
    n = rng.randint(2, 4)
    return pd.DataFrame({"team_id": [f"T{i}" for i in range(1, n + 1)],
                         "name": [f"Team {'ABCD'[i]}" for i in range(n)],
                         "manager_id": [None] * n})


def _reps(rng: random.Random, draw: _Draw, teams: pd.DataFrame, start: dt.date,
          end: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    reps, rows = [], []
    for i in range(1, rng.randint(2, 8) + 1):
        rep_id = f"R{i}"
        hired = draw.day(start + dt.timedelta(days=20), end) if rng.random() < 0.35 \
            else start - dt.timedelta(days=rng.randint(0, 300))
        left = draw.day(hired, end + dt.timedelta(days=30)) if rng.random() < 0.3 else None
        reps.append({"rep_id": rep_id, "name": f"Rep {i:02d}", "email": None,
                     "hire_date": hired, "end_date": left})
        rows += _assignments(rng, draw, rep_id, teams["team_id"].tolist(), hired, left, end)
    return pd.DataFrame(reps), pd.DataFrame(rows)


def _assignments(rng: random.Random, draw: _Draw, rep_id: str, team_ids: list[str],
                 hired: dt.date, left: dt.date | None, end: dt.date) -> list[dict]:
    """A chain of non-overlapping assignments: moves, the odd gap, maybe a future move."""
    last = left or end
    first = hired if rng.random() < 0.85 else hired + dt.timedelta(days=rng.randint(1, 40))
    first = min(first, last)
    moves = rng.choice((0, 1, 1, 2, 3)) if last > first + DAY else 0
    starts = sorted({first, *(draw.day(first + DAY, last) for _ in range(moves))})
    if rng.random() < 0.1:  # a reorganisation already scheduled after the data ends
        starts.append(end + dt.timedelta(days=rng.randint(10, 60)))
    state = {"team_id": rng.choice(team_ids), "region": rng.choice(REGIONS),
             "segment": rng.choice(SEGMENTS), "motion": rng.choice(MOTIONS)}
    rows = []
    for k, valid_from in enumerate(starts):
        if k:
            state = dict(state)
            if rng.random() < 0.7:
                state["team_id"] = rng.choice(team_ids)
            for key, values in (("region", REGIONS), ("segment", SEGMENTS), ("motion", MOTIONS)):
                if rng.random() < 0.4:
                    state[key] = rng.choice(values)
        nxt = starts[k + 1] if k + 1 < len(starts) else None
        valid_to = nxt
        if nxt is not None and rng.random() < 0.15 and (nxt - valid_from).days > 3:
            valid_to = nxt - dt.timedelta(days=rng.randint(1, (nxt - valid_from).days - 1))  # a gap
        elif nxt is None and left is not None and left >= valid_from and rng.random() < 0.5:
            valid_to = left + DAY
        rows.append({"rep_id": rep_id, **state, "valid_from": valid_from, "valid_to": valid_to})
    return rows


def _accounts(rng: random.Random) -> pd.DataFrame:
    n = rng.randint(4, 12)
    return pd.DataFrame({
        "account_id": [f"A{i}" for i in range(1, n + 1)], "name": [f"Account {i}" for i in range(n)],
        "industry": [rng.choice(INDUSTRIES) if rng.random() < 0.85 else None for _ in range(n)],
        "region": [rng.choice(REGIONS) for _ in range(n)], "employees": [100] * n,
    })


def _opportunities(rng: random.Random, draw: _Draw, reps: pd.DataFrame, accounts: pd.DataFrame,
                   end: dt.date, pipeline: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for i in range(1, rng.randint(20, 70) + 1):
        created = draw.day()
        outcome = rng.choices(("won", "lost", "open"), (0.38, 0.3, 0.32))[0]
        closed = None if outcome == "open" else (
            created if rng.random() < 0.05 else draw.day(created, end + dt.timedelta(days=30)))
        expected = draw.day(created, end + dt.timedelta(days=60)) if rng.random() < 0.75 else None
        amount = float(rng.choice((0, 500, 1000, 1200, 2500, 4000, 10000, 25000))) \
            if rng.random() < 0.95 else 0.0
        rows.append({
            "opp_id": f"O{i}", "rep_id": rng.choice(reps["rep_id"].tolist()),
            "account_id": rng.choice(accounts["account_id"].tolist()) if rng.random() < 0.9 else None,
            "created_at": created, "closed_at": closed, "expected_close_at": expected,
            "stage": {"won": "Closed Won", "lost": "Closed Lost"}.get(outcome) or rng.choice(pipeline),
            "is_closed": outcome != "open", "is_won": outcome == "won", "amount": amount,
            "cost": float(round(amount * rng.choice((0.1, 0.25, 0.5, 0.8)))) if rng.random() < 0.7
            else None,
            "product": rng.choice(PRODUCTS) if rng.random() < 0.85 else None,
            "kind": rng.choice(("new", "new", "expansion")),
        })
    return pd.DataFrame(rows)


def _stage_history(rng: random.Random, draw: _Draw, opps: pd.DataFrame, end: dt.date,
                   pipeline: tuple[str, ...]) -> pd.DataFrame:
    rows: dict[tuple, dict] = {}
    for opp in opps.itertuples():
        if rng.random() < 0.25:
            continue
        day = opp.created_at
        last = opp.closed_at or end + dt.timedelta(days=30)
        path = list(pipeline[rng.randrange(2) if len(pipeline) > 3 else 0:][: rng.randint(1, 4)])
        if rng.random() < 0.15:
            path += path[:2]  # re-entered after a slip back
        if opp.is_closed:
            path.append(opp.stage)
        for stage in path:
            day = draw.day(day, last) if rng.random() < 0.8 else day
            rows[(opp.opp_id, stage, day)] = {"opp_id": opp.opp_id, "stage": stage, "entered_at": day}
    return pd.DataFrame(list(rows.values()), columns=["opp_id", "stage", "entered_at"])


def _activities(rng: random.Random, draw: _Draw, reps: pd.DataFrame, accounts: pd.DataFrame,
                opps: pd.DataFrame) -> pd.DataFrame:
    rows = []
    times = (dt.time(0, 0), dt.time(23, 59, 59), dt.time(10, 30), dt.time(15, 0))
    for i in range(1, rng.randint(20, 260) + 1):
        opp = opps.iloc[rng.randrange(len(opps))] if rng.random() < 0.5 else None
        rows.append({
            "activity_id": f"X{i}", "rep_id": rng.choice(reps["rep_id"].tolist()),
            "account_id": (opp.account_id if opp is not None else
                           rng.choice(accounts["account_id"].tolist()) if rng.random() < 0.8 else None),
            "opp_id": None if opp is None else opp.opp_id,
            "occurred_at": dt.datetime.combine(draw.day(), rng.choice(times)),
            "type": rng.choice(ACTIVITY_TYPES), "new_prospect": rng.random() < 0.3,
        })
    return pd.DataFrame(rows)


def _quotas(rng: random.Random, reps: pd.DataFrame, teams: pd.DataFrame, start: dt.date,
            end: dt.date) -> pd.DataFrame:
    rows = []
    for rep_id in reps["rep_id"]:
        if rng.random() < 0.15:
            continue
        span = rng.choice((1, 3, 3))  # months per quota period
        month = dt.date(start.year, start.month, 1)
        month = _add_months(month, -rng.randint(0, 4))
        while month <= end:
            nxt = _add_months(month, span)
            if rng.random() < 0.9:
                last = nxt - DAY if rng.random() < 0.9 else month + dt.timedelta(days=44)  # odd span
                rows.append({"rep_id": rep_id, "team_id": None, "period_start": month, "period_end": last,
                             "amount": float(rng.choice((0, 9000, 30000, 45000, 100000)))})
            month = nxt
    for team_id in teams["team_id"]:  # team quotas: not a rep's quota, never added to theirs
        rows.append({"rep_id": None, "team_id": team_id, "period_start": start,
                     "period_end": end, "amount": 1e6})
    return pd.DataFrame([{"quota_id": f"Q{i}", **r} for i, r in enumerate(rows)])


def _add_months(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)
