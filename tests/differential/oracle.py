"""An independent pandas reference for every catalog metric, written from the KPI definitions.

It reads the canonical tables as DataFrames and answers the same requests as the engine (period
by grain, optional split by dimensions, date range, scope, attribution) without looking at the
engine's SQL: each metric below is the sentence in DESIGN.md "KPI definitions" and the metric's
``definition``/``formula`` in metrics.yaml, written as "which events happened, dated how, what
each one contributes, and how contributions are combined".

Conventions shared with the engine's output (its documented contract, not its implementation):
columns ``period, *by, value[, numerator, denominator], is_partial``; a period is labelled by its
first day (``date_from`` for grain ``total``); every period from the one holding ``date_from`` to
the one holding ``date_to`` appears, and with ``by`` every group that had any event of the
metric's populations in the range and scope appears in every period; labels for a missing
assignment, industry or product are '(unassigned)', '(unknown)' and '(none)'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd

UNASSIGNED, UNKNOWN, NONE = "(unassigned)", "(unknown)", "(none)"
REP_DIMS = ("rep", "team", "region", "segment", "motion")
ALL_DIMS = (*REP_DIMS, "industry", "product")
GRAINS = ("day", "week", "month", "quarter", "year", "total")
TABLES = ("reps", "rep_assignments", "teams", "accounts", "opportunities", "stage_history",
          "activities", "quotas", "stages")
DAY = dt.timedelta(days=1)


# ------------------------------------------------------------------------------------ calendar
@cache
def period_start(day: dt.date, grain: str) -> dt.date:
    """First day of the day/ISO week (Monday)/month/quarter/year holding ``day``."""
    return {
        "day": day,
        "week": day - dt.timedelta(days=day.weekday()),
        "month": day.replace(day=1),
        "quarter": dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1),
        "year": dt.date(day.year, 1, 1),
    }[grain]


def next_period(start: dt.date, grain: str) -> dt.date:
    if grain in ("day", "week"):
        return start + (DAY if grain == "day" else dt.timedelta(weeks=1))
    months = start.year * 12 + start.month - 1 + {"month": 1, "quarter": 3, "year": 12}[grain]
    return dt.date(months // 12, months % 12 + 1, 1)


class Window(NamedTuple):
    period: dt.date  # the label: the period's first day (date_from for grain total)
    first: dt.date  # the part of the period inside the range, both ends inclusive
    last: dt.date
    is_partial: bool  # the period sticks out of the range


def spine(grain: str, date_from: dt.date, date_to: dt.date) -> list[Window]:
    """Every period of the range, from the one holding date_from to the one holding date_to."""
    if grain == "total":
        return [Window(date_from, date_from, date_to, False)]
    windows = []
    start = period_start(date_from, grain)
    while start <= date_to:
        end = next_period(start, grain) - DAY
        windows.append(Window(start, max(start, date_from), min(end, date_to),
                              start < date_from or end > date_to))
        start = end + DAY
    return windows


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --------------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class Data:
    """The canonical tables, dates as ``datetime.date``, the range and spine of one request."""

    tables: dict[str, pd.DataFrame]
    date_from: dt.date
    date_to: dt.date
    windows: list[Window]

    def __getattr__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise AttributeError(name) from None


def load_tables(store) -> dict[str, pd.DataFrame]:  # noqa: ANN001 - a kpi.store.Store
    """Each canonical table as a DataFrame, DATE columns as ``datetime.date``, NULL as None."""
    tables = {}
    for name in TABLES:
        if name not in store.tables():
            continue
        columns, rows = store.rows(f"SELECT * FROM {name}")
        frame = pd.DataFrame.from_records(rows, columns=columns).astype(object)
        tables[name] = frame.where(frame.notna(), None)
    return tables


# ------------------------------------------------------------------------------ populations
# A population is the set of events a measure looks at, one row each: the day it counts on, the
# rep it belongs to, the account and product it concerns (None when it has none), plus whatever
# columns the measure's contribution reads.
def closed_deals(data: Data) -> pd.DataFrame:
    """Deals won or lost, counted on the day they closed."""
    o = data.opportunities
    o = o[o["is_closed"].astype(bool)]
    return o.assign(day=o["closed_at"])


def created_deals(data: Data) -> pd.DataFrame:
    """Every deal, open or closed, counted on the day it was opened."""
    o = data.opportunities
    return o.assign(day=o["created_at"])


def logged_activities(data: Data) -> pd.DataFrame:
    """Activities on the calendar day they occurred; the product is the one of their deal, if any."""
    a = data.activities
    product = dict(zip(data.opportunities["opp_id"], data.opportunities["product"], strict=True))
    return a.assign(day=[t.date() for t in a["occurred_at"]],
                    product=[product.get(o) if o is not None else None for o in a["opp_id"]])


def stage_entries(data: Data) -> pd.DataFrame:
    """Each entry of a deal into a stage, on its day, for the deal's rep, account and product."""
    o = data.opportunities[["opp_id", "rep_id", "account_id", "product"]]
    h = data.stage_history.merge(o, on="opp_id", how="inner")
    return h.assign(day=h["entered_at"])


def active_rep_days(data: Data) -> pd.DataFrame:
    """One row per rep per day from hire date to end date, both inclusive, inside the range."""
    rows = []
    for rep in data.reps.itertuples():
        first = max(rep.hire_date, data.date_from)
        last = min(rep.end_date or data.date_to, data.date_to)
        rows += [(day, rep.rep_id) for day in days_between(first, last)] if first <= last else []
    return _frame(rows, ["day", "rep_id"])


def rep_quota_days(data: Data) -> pd.DataFrame:
    """Each rep quota spread evenly over every day of its period (team quotas are not rep quotas)."""
    rows = []
    for q in data.quotas.itertuples():
        if q.rep_id is None:
            continue
        per_day = q.amount / ((q.period_end - q.period_start).days + 1)
        first, last = max(q.period_start, data.date_from), min(q.period_end, data.date_to)
        rows += [(day, q.rep_id, per_day) for day in days_between(first, last)] if first <= last else []
    return _frame(rows, ["day", "rep_id", "daily_quota"])


def pipeline_at_window_start(data: Data) -> pd.DataFrame:
    """Deals open when each period's window opens and due (expected close, else actual close)
    inside that window, counted on the window's first day.

    Open at the start of a day means opened on an earlier day and not closed on an earlier day.
    """
    rows = []
    deals = data.opportunities.to_dict("records")
    for w in data.windows:
        for o in deals:
            due = o["expected_close_at"] or o["closed_at"]
            open_then = o["created_at"] < w.first and (o["closed_at"] is None or o["closed_at"] >= w.first)
            if open_then and due is not None and w.first <= due <= w.last:
                rows.append((w.first, o["rep_id"], o["account_id"], o["product"], o["amount"]))
    return _frame(rows, ["day", "rep_id", "account_id", "product", "amount"])


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns).astype(object)
    return frame.where(frame.notna(), None)


# ------------------------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class Measure:
    """What each event of a population contributes, and how contributions combine in a group.

    ``combine``: 'sum' (0 when nothing happened), 'median' (NaN when nothing counted) or
    'distinct' (number of different non-null contributions; 0 when none).
    """

    population: Callable[[Data], pd.DataFrame]
    contribution: Callable[[pd.DataFrame], pd.Series]
    combine: str = "sum"

    @property
    def additive(self) -> bool:
        return self.combine == "sum"

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Rep dimensions always; industry and product only for events about an account/deal."""
        return REP_DIMS if self.population in (active_rep_days, rep_quota_days) else ALL_DIMS


@dataclass(frozen=True)
class Definition:
    """A metric: one measure, or a ratio sum(numerator) / sum(denominator) in every group."""

    numerator: Measure
    denominator: Measure | None = None

    @property
    def measures(self) -> tuple[Measure, ...]:
        return (self.numerator,) if self.denominator is None else (self.numerator, self.denominator)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(d for d in ALL_DIMS if all(d in m.dimensions for m in self.measures))


def won(f: pd.DataFrame) -> pd.Series:
    return f["is_won"].astype(bool)


def one(f: pd.DataFrame) -> pd.Series:
    return pd.Series(1.0, index=f.index)


def where(condition: Callable[[pd.DataFrame], pd.Series],
          then: Callable[[pd.DataFrame], pd.Series] = one, otherwise: float = 0.0
          ) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda f: then(f).where(condition(f), otherwise).astype(float) if len(f) \
        else pd.Series(dtype=float)


def amount(f: pd.DataFrame) -> pd.Series:
    return f["amount"].astype(float)


def of_type(kind: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda f: f["type"] == kind


REP_WEEKS = Measure(active_rep_days, lambda f: one(f) / 7)


def per_rep_week(events: Measure) -> Definition:
    """A lever per active rep-week: events over (active rep-days / 7)."""
    return Definition(events, REP_WEEKS)


WON_AMOUNT = Measure(closed_deals, where(won, amount))
QUOTA = Measure(rep_quota_days, lambda f: f["daily_quota"].astype(float))
OPEN_PIPELINE = Measure(pipeline_at_window_start, amount)


def stage_conversion() -> Definition:
    """Entries into the proposal stage for each entry into the qualifying stage, counted on the
    entry days. Which stage plays which role is data: the ``stages`` table (derived by kpi.stages
    from the order deals move through the pipeline) names it; a stage without a role counts on
    neither side.

    Kept on its own so that a change in how the funnel's stages are picked is a change here only.
    """
    def entries(data: Data) -> pd.DataFrame:
        stages = data.tables.get("stages")
        roles = {} if stages is None else dict(zip(stages["stage"], stages["role"], strict=True))
        events = stage_entries(data)
        return events.assign(role=[roles.get(s) for s in events["stage"]])

    def entered(role: str) -> Measure:
        return Measure(entries, where(lambda f: f["role"] == role))

    return Definition(entered("propose"), entered("qualify"))


def gross_margin() -> Definition:
    """(won amount - cost) / won amount over the won deals whose cost is known: a deal without a
    cost is left out of both sides, never read as free."""
    costed = where(lambda f: won(f) & f["cost"].notna(), amount)
    margin = where(lambda f: won(f) & f["cost"].notna(),
                   lambda f: amount(f) - pd.to_numeric(f["cost"], errors="coerce"))
    return Definition(Measure(closed_deals, margin), Measure(closed_deals, costed))


def new_logo(f: pd.DataFrame) -> pd.Series:
    """The account of a won new-business deal (None for anything else)."""
    signed = won(f) & (f["kind"] == "new")
    return f["account_id"].where(signed, None)


DEFINITIONS: dict[str, Definition] = {
    # outputs
    "revenue": Definition(WON_AMOUNT),
    "win_rate": Definition(Measure(closed_deals, where(won)), Measure(closed_deals, one)),
    "win_rate_value": Definition(WON_AMOUNT, Measure(closed_deals, amount)),
    "avg_deal_size": Definition(WON_AMOUNT, Measure(closed_deals, where(won))),
    "median_deal_size": Definition(Measure(closed_deals, where(won, amount, np.nan), "median")),
    "gross_margin": gross_margin(),
    "sales_cycle_days": Definition(Measure(
        closed_deals,
        where(won, lambda f: pd.Series([(c - o).days for c, o in zip(f["closed_at"], f["created_at"],
                                                                      strict=True)], index=f.index,
                                       dtype=float), np.nan),
        "median")),
    "quota_attainment": Definition(WON_AMOUNT, QUOTA),
    "new_logos": Definition(Measure(closed_deals, new_logo, "distinct")),
    # levers
    "activities": per_rep_week(Measure(logged_activities, one)),
    "calls": per_rep_week(Measure(logged_activities, where(of_type("call")))),
    "meetings": per_rep_week(Measure(logged_activities, where(of_type("meeting")))),
    "new_prospect_meetings": per_rep_week(Measure(logged_activities, where(
        lambda f: of_type("meeting")(f) & f["new_prospect"].astype(bool)))),
    "demos": per_rep_week(Measure(logged_activities, where(of_type("demo")))),
    "proposals_sent": per_rep_week(Measure(logged_activities, where(of_type("proposal")))),
    "opps_created": per_rep_week(Measure(created_deals, one)),
    "pipeline_created": per_rep_week(Measure(created_deals, amount)),
    "stage_conversion": stage_conversion(),
    "pipeline_coverage": Definition(OPEN_PIPELINE, QUOTA),
    "open_pipeline": Definition(OPEN_PIPELINE),
}


# --------------------------------------------------------------------------------- answering
@dataclass(frozen=True)
class Request:
    """What the engine's MetricRequest asks, in plain values (scope: kind and ids)."""

    metric: str
    grain: str
    by: tuple[str, ...]
    date_from: dt.date
    date_to: dt.date
    scope: tuple[str, tuple[str, ...]] = ("all", ())
    attribution: str = "as_of"


class Oracle:
    """Answers requests over one company's tables (plain Python over the events: slow but plain)."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables = tables
        self._cache: dict[tuple, object] = {}
        t = tables
        self._rep_names = dict(zip(t["reps"]["rep_id"], t["reps"]["name"], strict=True))
        self._team_names = dict(zip(t["teams"]["team_id"], t["teams"]["name"], strict=True))
        self._industries = dict(zip(t["accounts"]["account_id"], t["accounts"]["industry"], strict=True))
        self._assignments: dict[str, list[dict]] = {}
        for row in sorted(t["rep_assignments"].to_dict("records"), key=lambda r: r["valid_from"]):
            self._assignments.setdefault(row["rep_id"], []).append(row)

    def run(self, request: Request) -> pd.DataFrame:
        """The metric table: period, the ``by`` columns, value (+ numerator, denominator), is_partial."""
        columns, rows = self.rows(request)
        frame = pd.DataFrame.from_records(rows, columns=columns)
        return frame.astype({c: object for c in ["period", *request.by]})

    def rows(self, request: Request) -> tuple[list[str], list[tuple]]:
        """The same table as :meth:`run`, as column names and tuples sorted by period and group."""
        definition = DEFINITIONS[request.metric]
        windows = spine(request.grain, request.date_from, request.date_to)
        answers = [self._totals(m, request, windows) for m in definition.measures]
        groups = sorted(set().union(*(g for g, _ in answers)))
        totals = [t for _, t in answers]
        empty = [combine(m.combine, []) for m in definition.measures]  # nothing happened
        rows = []
        for window in windows:
            for group in groups if request.by else [()]:
                key = (window.period, *group)
                parts = [t.get(key, e) for t, e in zip(totals, empty, strict=True)]
                if definition.denominator is None:
                    rows.append((*key, parts[0], window.is_partial))
                else:
                    num, den = parts
                    rows.append((*key, num / den if den != 0 else np.nan, num, den, window.is_partial))
        ratio = ("numerator", "denominator") if definition.denominator else ()
        return ["period", *request.by, "value", *ratio, "is_partial"], rows

    def _totals(self, measure: Measure, request: Request, windows: list[Window]
                ) -> tuple[set[tuple], dict[tuple, float]]:
        """The groups the measure's events fall in, and its value per (period, *group)."""
        key = (id(measure), request.grain, request.by, request.date_from, request.date_to,
               request.scope, request.attribution)
        if key not in self._cache:
            events = self._in_scope(self._facts(measure, request, windows), request.scope)
            label = self._period_label(request)
            found: dict[tuple, list] = {}
            for e in events:
                found.setdefault((label(e["day"]), *(e[d] for d in request.by)), []).append(
                    e["contribution"])
            self._cache[key] = ({k[1:] for k in found},
                                {k: combine(measure.combine, v) for k, v in found.items()})
        return self._cache[key]

    @staticmethod
    def _period_label(request: Request) -> Callable[[dt.date], dt.date]:
        if request.grain == "total":
            return lambda day: request.date_from
        return lambda day: period_start(day, request.grain)

    @staticmethod
    def _in_scope(events: list[dict], scope: tuple[str, tuple[str, ...]]) -> list[dict]:
        """Everyone, the events of some reps, or what happened in some teams: an event is in a
        team's scope when its rep was in the team on the event's day, whichever attribution the
        numbers are shown in (row-level scope does not move with the "current org" toggle)."""
        kind, ids = scope
        if kind == "all":
            return events
        column = "team_on_the_day" if kind == "team" else "rep_id"
        return [e for e in events if e[column] in ids]

    def _facts(self, measure: Measure, request: Request, windows: list[Window]) -> list[dict]:
        """The measure's events inside the range, each labelled with every dimension."""
        key = (id(measure), request.attribution, request.date_from, request.date_to,
               tuple(w.first for w in windows) if measure.population is pipeline_at_window_start else ())
        if key not in self._cache:
            data = Data(self.tables, request.date_from, request.date_to, windows)
            events = measure.population(data)
            inside = [request.date_from <= d <= request.date_to for d in events["day"]]
            events = events[pd.Series(inside, index=events.index, dtype=bool)]
            events = events.assign(contribution=measure.contribution(events) if len(events) else [])
            self._cache[key] = [self._attribute(e, request.attribution)
                                for e in events.to_dict("records")]
        return self._cache[key]

    def _attribute(self, event: dict, attribution: str) -> dict:
        """Label one event with its rep, team, region, segment, motion, industry and product."""
        a = self._assignment(event["rep_id"], event["day"], attribution)
        on_the_day = self._assignment(event["rep_id"], event["day"], "as_of")
        return {
            "day": event["day"], "rep_id": event["rep_id"], "contribution": event["contribution"],
            "rep": self._rep_names.get(event["rep_id"], event["rep_id"]),
            "team_on_the_day": on_the_day["team_id"] if on_the_day else None,
            "team": self._team_names.get(a["team_id"], UNASSIGNED) if a else UNASSIGNED,
            "region": a["region"] if a else UNASSIGNED,
            "segment": a["segment"] if a else UNASSIGNED,
            "motion": a["motion"] if a else UNASSIGNED,
            "industry": _text(self._industries.get(event.get("account_id"))) or UNKNOWN,
            "product": _text(event.get("product")) or NONE,
        }

    def _assignment(self, rep_id: str, day: dt.date, attribution: str) -> dict | None:
        """as_of: the assignment valid on ``day`` (valid_from inclusive, valid_to exclusive);
        current: the rep's latest assignment, whatever the day."""
        rows = self._assignments.get(rep_id, [])
        if attribution == "current":
            return rows[-1] if rows else None
        valid = [r for r in rows if r["valid_from"] <= day and (r["valid_to"] is None or day < r["valid_to"])]
        assert len(valid) <= 1, f"overlapping assignments for {rep_id} on {day}"
        return valid[0] if valid else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def combine(how: str, values: list) -> float:
    """sum: 0 when nothing happened; median: NaN when nothing counted; distinct: how many
    different non-null values (0 when none)."""
    present = [v for v in values if v is not None and v == v]  # NaN != NaN
    if how == "sum":
        return float(sum(present))
    if how == "median":
        return float(np.median(present)) if present else np.nan
    return float(len(set(present)))
