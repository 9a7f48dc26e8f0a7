"""A small company for the metamorphic scope tests, and the changes made to other people's data.

Three teams (Atlas = T1, the viewers' team; Borealis = T2; Cirrus = T3), three or more reps each,
a year and a half of weekly activities and deals (seeded, so every build is identical), quotas,
stage history and two strategy rollouts. In Atlas: R1, R2 and R3 since 2023; RN hired on
17 March 2025 (too short a baseline: compared with the team's); RI transferred in from Borealis
on 6 January 2025; RO transferred out to Borealis on 3 February 2025.

Each :class:`Perturbation` changes only data that is not the viewer's: other teams' reps, a rep
added in another team, the transferred reps' rows on the far side of their transfer, a teammate
(for a rep viewer only), a reorganisation between the other teams, or data after the day viewed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from kpi.engine import CompiledQuery, Engine, MetricRequest
from kpi.stages import refresh
from kpi.store import DuckDBStore, Store

TODAY = dt.date(2025, 6, 18)  # a Wednesday: weeks, months and the quarter are all under way
START, END = dt.date(2024, 1, 1), dt.date(2025, 6, 29)  # data runs a little past the day viewed
HIRED = dt.date(2023, 6, 1)
RI_JOINS, RO_LEAVES = dt.date(2025, 1, 6), dt.date(2025, 2, 3)
RN_HIRED = dt.date(2025, 3, 17)
RECORDED = dt.datetime(2025, 1, 2, 9, 0)
INDUSTRIES = ("Retail", "Health", "Finance", "Energy")
TEAMS = {"T1": "Atlas", "T2": "Borealis", "T3": "Cirrus"}
# rep -> [(team, valid_from, valid_to)], region, segment, motion
ORG: dict[str, tuple[list[tuple[str, dt.date, dt.date | None]], str, str, str]] = {
    "R1": ([("T1", HIRED, None)], "East", "Retail", "hunter"),
    "R2": ([("T1", HIRED, None)], "East", "Retail", "farmer"),
    "R3": ([("T1", HIRED, None)], "West", "Health", "hunter"),
    "RN": ([("T1", RN_HIRED, None)], "East", "generalist", "hunter"),
    "RI": ([("T2", HIRED, RI_JOINS), ("T1", RI_JOINS, None)], "West", "Finance", "farmer"),
    "RO": ([("T1", HIRED, RO_LEAVES), ("T2", RO_LEAVES, None)], "East", "Health", "hunter"),
    "R4": ([("T2", HIRED, None)], "West", "Finance", "hunter"),
    "R5": ([("T2", HIRED, None)], "West", "Retail", "farmer"),
    "R6": ([("T2", HIRED, None)], "North", "Energy", "hunter"),
    "R7": ([("T3", HIRED, None)], "North", "Energy", "farmer"),
    "R8": ([("T3", HIRED, None)], "North", "Health", "hunter"),
    "R9": ([("T3", HIRED, None)], "East", "Finance", "farmer"),
}
OTHER_TEAM_REPS = ("R4", "R5", "R6", "R7", "R8", "R9")


def _weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    monday = first - dt.timedelta(days=first.weekday())
    return [monday + dt.timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]


class Tables:
    """The canonical tables as lists of rows, turned into a database by :meth:`store`."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in (
            "teams", "reps", "rep_assignments", "accounts", "opportunities", "stage_history",
            "activities", "quotas", "initiatives", "initiative_teams", "initiative_targets",
            "reviews")}
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:06d}"

    def rep(self, rep_id: str, spells: list[tuple[str, dt.date, dt.date | None]], region: str,
            segment: str, motion: str) -> None:
        self.rows["reps"].append({"rep_id": rep_id, "name": f"Rep {rep_id}", "email": None,
                                  "hire_date": spells[0][1], "end_date": None})
        for team, start, end in spells:
            self.rows["rep_assignments"].append({
                "rep_id": rep_id, "team_id": team, "region": region, "segment": segment,
                "motion": motion, "valid_from": start, "valid_to": end})

    def move(self, rep_id: str, team_id: str, on: dt.date) -> None:
        """End the rep's open assignment the day before ``on`` and start one in ``team_id``."""
        current = next(a for a in self.rows["rep_assignments"]
                       if a["rep_id"] == rep_id and a["valid_to"] is None)
        current["valid_to"] = on
        self.rows["rep_assignments"].append({**current, "team_id": team_id, "valid_from": on,
                                             "valid_to": None})

    def activities(self, rep_id: str, day: dt.date, kind: str, n: int = 1,
                   new_prospect: bool = False) -> None:
        at = dt.datetime.combine(day, dt.time(10, 0))
        for _ in range(n):
            self.rows["activities"].append({
                "activity_id": self._id("A"), "rep_id": rep_id, "account_id": None,
                "opp_id": None, "occurred_at": at, "type": kind, "new_prospect": new_prospect})

    def deal(self, rep_id: str, created: dt.date, closed: dt.date | None, won: bool,
             amount: float, account: str, expected: dt.date | None = None,
             cost: float | None = None, product: str = "Core", kind: str = "new") -> None:
        opp_id = self._id("O")
        history = [("Qualification", created)]
        if closed is None or (closed - created).days > 10:
            history.append(("Proposal", created + dt.timedelta(days=7)))
        if closed is not None:
            history.append(("Closed Won" if won else "Closed Lost", closed))
        self.rows["opportunities"].append({
            "opp_id": opp_id, "rep_id": rep_id, "account_id": account, "created_at": created,
            "closed_at": closed, "expected_close_at": expected, "stage": history[-1][0],
            "is_closed": closed is not None, "is_won": won, "amount": float(amount),
            "cost": cost, "product": product, "kind": kind})
        for stage, on in history:
            self.rows["stage_history"].append({"opp_id": opp_id, "stage": stage, "entered_at": on})

    def quota(self, rep_id: str, start: dt.date, end: dt.date, amount: float) -> None:
        self.rows["quotas"].append({"quota_id": self._id("Q"), "rep_id": rep_id, "team_id": None,
                                    "period_start": start, "period_end": end,
                                    "amount": float(amount)})

    def initiative(self, iid: str, name: str, rollout: dt.date, weeks: int, target: dt.date,
                   teams: dict[str, dt.date], targets: list[tuple[str, float, dt.date]]) -> None:
        self.rows["initiatives"].append({
            "initiative_id": iid, "name": name, "strategy": f"{name}: win more",
            "tactics": "more of the levers that lead", "rollout_date": rollout,
            "baseline_weeks": weeks, "target_date": target, "created_at": RECORDED})
        for team, adopted in teams.items():
            self.rows["initiative_teams"].append({"initiative_id": iid, "team_id": team,
                                                  "adopted_on": adopted})
        for metric, change, effective in targets:
            self.rows["initiative_targets"].append({
                "target_id": self._id("G"), "initiative_id": iid, "metric_id": metric,
                "change_pct": change, "effective_from": effective, "recorded_at": RECORDED,
                "note": "launch" if effective == rollout else "re-calibrated"})
        self.rows["reviews"].append({"review_id": self._id("V"), "initiative_id": iid,
                                     "review_date": rollout + dt.timedelta(weeks=8),
                                     "learned": "demos move first", "author": "Exec",
                                     "recorded_at": RECORDED})

    def store(self) -> Store:
        store = Frozen.create()
        with store.transaction():
            for table, rows in self.rows.items():
                if rows:
                    store.insert_frame(table, pd.DataFrame(rows))
            refresh(store)  # the stages table, derived from the deals as an import does
        store.freeze()
        return store


class Frozen(DuckDBStore):
    """A store that is never written after it is built, so each distinct read runs once.

    The views read the same baselines many times over; the answers are the database's either
    way, and the tests stay fast on a small machine.
    """

    _memo: dict | None = None

    def freeze(self) -> None:
        self._memo = {}
        self.execute("SET threads = 1")  # tiny queries: no gain from threads on a small machine

    def _cached(self, kind: str, sql: str, params: Mapping[str, Any] | None, read: Callable):
        if self._memo is None:
            return read(sql, params)
        key = (kind, sql, tuple(sorted((params or {}).items())))
        if key not in self._memo:
            self._memo[key] = read(sql, params)
        value = self._memo[key]
        if isinstance(value, pd.DataFrame):
            return value.copy()
        return (list(value[0]), list(value[1])) if kind == "rows" else value  # rows are tuples

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list]:
        return self._cached("rows", sql, params, super().rows)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self._cached("query", sql, params, super().query)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._cached("scalar", sql, params, super().scalar)


class Memo(Engine):
    """The engine over a :class:`Frozen` store, compiling each distinct request once."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._compiled: dict[MetricRequest, CompiledQuery] = {}

    def compile(self, request: MetricRequest) -> CompiledQuery:
        if request not in self._compiled:
            self._compiled[request] = super().compile(request)
        return self._compiled[request]


def _rep_weeks(tables: Tables, rep_id: str, first: dt.date, last: dt.date, scale: float = 1.0,
               seed: str = "", bounded: bool = False) -> None:
    """A rep's ordinary weeks between ``first`` and ``last``: activities and deals (seeded).

    ``bounded``: every event of every deal (created, stage entries, closed) falls between
    ``first`` and ``last``, and none stays open after ``last``.
    """
    rng = random.Random(f"{rep_id}:{seed}")
    for monday in _weeks(first, last):
        day = partial(_weekday, rng, monday, first, last)
        tables.activities(rep_id, day(), "meeting", round(rng.randint(1, 4) * scale), True)
        tables.activities(rep_id, day(), "meeting", round(rng.randint(0, 2) * scale))
        tables.activities(rep_id, day(), "demo", round(rng.randint(0, 3) * scale))
        tables.activities(rep_id, day(), "proposal", round(rng.randint(0, 2) * scale))
        tables.activities(rep_id, day(), "call", round(rng.randint(2, 6) * scale))
        if rng.random() < 0.85:
            _one_deal(tables, rep_id, day(), rng, scale, last if bounded else END)


def _weekday(rng: random.Random, monday: dt.date, first: dt.date, last: dt.date) -> dt.date:
    return max(first, min(last, monday + dt.timedelta(days=rng.randrange(5))))


def _one_deal(tables: Tables, rep_id: str, created: dt.date, rng: random.Random,
              scale: float, last: dt.date) -> None:
    amount = rng.randrange(50, 600) * 100 * scale
    account = f"A{rng.randrange(24):02d}"
    closes = created + dt.timedelta(days=rng.randrange(14, 80))
    won = rng.random() < 0.4
    product = rng.choice(("Core", "Plus"))
    if (rng.random() < 0.75 and closes <= END) or last < END:
        closes = min(closes, last)
        cost = None if rng.random() < 0.2 else round(amount * rng.uniform(0.4, 0.8), 2)
        tables.deal(rep_id, created, closes, won, amount, account, cost=cost, product=product,
                    kind=rng.choice(("new", "expansion")))
    else:
        tables.deal(rep_id, created, None, False, amount, account, expected=closes,
                    product=product)


def base() -> Tables:
    tables = Tables()
    for team, name in TEAMS.items():
        tables.rows["teams"].append({"team_id": team, "name": name, "manager_id": None})
    for i in range(24):
        tables.rows["accounts"].append({"account_id": f"A{i:02d}", "name": f"Account {i}",
                                        "industry": INDUSTRIES[i % 4], "region": "East",
                                        "employees": 100 + i})
    for rep_id, (spells, region, segment, motion) in ORG.items():
        tables.rep(rep_id, spells, region, segment, motion)
        _rep_weeks(tables, rep_id, max(START, spells[0][1]), END)
        for quarter in range(6):
            start = dt.date(2024 + quarter // 4, quarter % 4 * 3 + 1, 1)
            end = dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
            tables.quota(rep_id, start, end - dt.timedelta(days=1), 150_000)
    levers = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created",
              "pipeline_created", "stage_conversion")
    rollout = dt.date(2025, 4, 7)
    tables.initiative(
        "team-push", "Team push", rollout, 8, dt.date(2025, 12, 31),
        {"T1": rollout, "T2": dt.date(2025, 4, 14)},
        [(m, 0.2, rollout) for m in levers] + [("win_rate", 0.1, rollout),
                                                ("demos", 0.3, dt.date(2025, 5, 5))])
    tables.initiative("company-focus", "Company focus", dt.date(2025, 2, 3), 6,
                      dt.date(2025, 9, 30), {},
                      [("proposals_sent", 0.25, dt.date(2025, 2, 3)),
                       ("revenue", 0.1, dt.date(2025, 2, 3))])
    return tables


# --- what changes ------------------------------------------------------------------------------

def _big(tables: Tables, rep_id: str, first: dt.date, last: dt.date) -> None:
    """Huge deals and many activities for one rep, every event of them between two days (both
    inclusive); deals stay open only when ``last`` is the end of the data."""
    _rep_weeks(tables, rep_id, first, last, scale=10.0, seed="big", bounded=True)
    for monday in _weeks(first, last)[::3]:
        day = max(first, min(last, monday + dt.timedelta(days=2)))
        close = min(day + dt.timedelta(days=20), last)
        tables.deal(rep_id, day, close, True, 9_000_000, "A01", cost=1_000.0)
        tables.deal(rep_id, day, None if last == END else close, False, 7_000_000, "A02",
                    expected=close)


@dataclass(frozen=True)
class Perturbation:
    key: str
    what: str
    change: Callable[[Tables], None]
    for_reps_only: bool = False  # changes the viewer's own team: not outside a manager's scope


def _other_teams(tables: Tables) -> None:
    for rep_id in OTHER_TEAM_REPS:
        _big(tables, rep_id, START, END)


def _new_rep_elsewhere(tables: Tables) -> None:
    tables.rep("RX", [("T3", dt.date(2024, 9, 2), None)], "North", "Energy", "hunter")
    _big(tables, "RX", dt.date(2024, 9, 2), END)


def _after_leaving(tables: Tables) -> None:
    _big(tables, "RO", RO_LEAVES, END)


def _before_joining(tables: Tables) -> None:
    _big(tables, "RI", START, RI_JOINS - dt.timedelta(days=1))


def _teammate(tables: Tables) -> None:
    _big(tables, "R2", START, END)


def _reorg_elsewhere(tables: Tables) -> None:
    tables.move("R7", "T2", dt.date(2024, 11, 4))
    tables.move("R5", "T3", dt.date(2024, 11, 4))


def _later_elsewhere(tables: Tables) -> None:
    tables.activities("R8", dt.date(2025, 7, 9), "call", 50)


PERTURBATIONS = (
    Perturbation("other_teams", "huge deals and many activities for every rep of the other "
                 "teams", _other_teams),
    Perturbation("new_rep_elsewhere", "a new rep in another team, with huge numbers",
                 _new_rep_elsewhere),
    Perturbation("after_leaving", "huge numbers for the rep who left the team, after they left",
                 _after_leaving),
    Perturbation("before_joining", "huge numbers for the rep who joined the team, before they "
                 "joined", _before_joining),
    Perturbation("teammate", "huge numbers for a teammate of the rep", _teammate,
                 for_reps_only=True),
    Perturbation("reorg_elsewhere", "two reps swap between the other teams", _reorg_elsewhere),
    Perturbation("later_elsewhere", "another team's activities after the day viewed",
                 _later_elsewhere),
)
BY_KEY = {p.key: p for p in PERTURBATIONS}


def build(*changes: str) -> Engine:
    """The company as built, with the named perturbations applied (a fresh database)."""
    tables = base()
    for key in changes:
        BY_KEY[key].change(tables)
    return Memo(tables.store())
