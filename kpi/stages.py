"""The pipeline's stages: order, outcome and role, read from the data rather than from stage names.

CRMs name their stages differently ('Proposal/Price Quote' in Salesforce, 'presentationscheduled'
in HubSpot, 'Engaging' in the Maven export), so what a stage *means* comes from where it sits in
the pipeline. The ``stages`` table (one row per stage name) is re-derived from everything in the
database by :func:`refresh` after each import (the demo states its own list, which the same rules
turn into the table):

- **outcome** (open, won, lost): as a stage list states it (a preset's stage table, the demo's, or
  what an earlier import stated), else from the deals that sit in
  the stage now (IsClosed / IsWon: most of them won -> won, most closed -> lost), else 'open' for a
  stage seen only in stage history (unless it is named like Closed Won / Closed Lost).
- **position**: open stages first (1..n) in the order deals move through them, then won, then lost
  stages. Each stage is inserted where it contradicts the least evidence, compared tier by tier:
  a stated order (this import's stage lists first, then what earlier imports stated), then stage
  history (for two stages, how many deals first entered one on an earlier day than the other),
  then the stages' win probability (a higher probability sits later), then timing (the median
  days from a deal's creation to its first entry into the stage). A stage no evidence places
  goes last among the open stages.
- **role**: what the catalog's stage metrics need, by position among the n open stages
  (:func:`pipeline_roles`), unless a stage list names the stage for the role:
  ``qualify`` is the first open stage, or the second when n >= 5 (long pipelines open with a
  prospecting step before qualification: Salesforce's Prospecting, HubSpot's Appointment
  scheduled); ``propose`` is the next-to-last open stage (the last one is negotiation or contract),
  and always after ``qualify``. With fewer than two open stages there is nothing to convert between
  and no stage gets a role.
- **forecast category** and **probability**: as stated (the deals' ForecastCategoryName and
  Probability, most common and median per stage), else by outcome: won -> closed, lost ->
  omitted, open -> pipeline; no probability.

``ordered_by`` says what decided a stage's position (preset, demo, history, probability, timing,
outcome or unknown) and ``role_by`` what gave its role (rule, or the list that named it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from kpi import schema
from kpi.store import Store

COLUMNS = ("stage", "position", "outcome", "role", "forecast_category", "probability",
           "ordered_by", "role_by")
STATED = ("preset", "demo")  # an order that was stated, not inferred, is kept by later imports
ROLE_NAMES = {"qualify": "qualifying stage", "propose": "proposal stage"}
_CLOSED_NAMES = {"closedwon": "won", "won": "won", "closedlost": "lost", "lost": "lost"}
_CATEGORIES = {"pipeline": "pipeline", "bestcase": "best_case", "upside": "best_case",
               "commit": "commit", "forecast": "commit", "closed": "closed", "closedwon": "closed",
               "omitted": "omitted", "notforecasted": "omitted", "closedlost": "omitted"}
_DEFAULT_CATEGORY = {"open": "pipeline", "won": "closed", "lost": "omitted"}

CURRENT_SQL = """
    SELECT stage, sum(deals) AS deals, sum(closed) AS closed, sum(won) AS won FROM (
        SELECT stage, count(*) AS deals, count(*) FILTER (WHERE is_closed) AS closed,
               count(*) FILTER (WHERE is_won) AS won
          FROM opportunities GROUP BY stage
        UNION ALL SELECT DISTINCT stage, 0, 0, 0 FROM stage_history) x
    GROUP BY stage ORDER BY stage"""
_FIRSTS = """firsts AS (SELECT opp_id, stage, min(entered_at) AS entered
                      FROM stage_history GROUP BY opp_id, stage)"""
# for two stages, the deals that first entered one on an earlier day than the other
PRECEDENCE_SQL = f"""
    WITH {_FIRSTS}
    SELECT a.stage AS earlier, b.stage AS later, count(*) AS deals
      FROM firsts a JOIN firsts b ON a.opp_id = b.opp_id AND a.entered < b.entered
     GROUP BY a.stage, b.stage"""
# how many days into a deal's life each stage is first entered (median over its deals)
TIMING_SQL = f"""
    WITH {_FIRSTS}
    SELECT f.stage, median(date_diff('day', o.created_at, f.entered)) AS days
      FROM firsts f JOIN opportunities o ON o.opp_id = f.opp_id
     GROUP BY f.stage"""


@dataclass(frozen=True)
class StageList:
    """Stages as a preset, the demo, an import's deals or an earlier import state them.

    ``frame`` has a ``stage`` column and any of ``outcome``, ``role``, ``forecast_category``,
    ``probability`` (a share or a percent) and ``source`` (per row, else ``source``). Its rows are
    in pipeline order when ``ordered``; a list that ``defines`` its stages puts them in the table
    even before any deal has entered them. Names match the data's case-insensitively.
    """

    frame: pd.DataFrame
    source: str
    ordered: bool = True
    defines: bool = False


@dataclass(frozen=True)
class Evidence:
    """What the deals say: ``current`` (stage, deals, closed, won: the deals sitting in each stage
    now; 0 deals for a stage seen only in history), ``precedence`` (earlier, later, deals) and
    ``timing`` (stage, days: the median days from a deal's creation to its first entry)."""

    current: pd.DataFrame
    precedence: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["earlier", "later", "deals"]))
    timing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["stage", "days"]))

    @classmethod
    def none(cls) -> Evidence:
        return cls(pd.DataFrame(columns=["stage", "deals", "closed", "won"]))


def evidence(store: Store) -> Evidence:
    """The evidence in the whole database (three aggregate queries)."""
    return Evidence(store.query(CURRENT_SQL), store.query(PRECEDENCE_SQL), store.query(TIMING_SQL))


def frame_evidence(opportunities: pd.DataFrame | None, history: pd.DataFrame | None) -> Evidence:
    """The same evidence from canonical frames (an import that is not written yet)."""
    none = Evidence.none()
    current = none.current
    if opportunities is not None and "stage" in opportunities:
        deals = opportunities.assign(closed=opportunities["is_closed"].astype(bool),
                                     won=opportunities["is_won"].astype(bool))
        current = deals.groupby("stage").agg(deals=("stage", "size"), closed=("closed", "sum"),
                                             won=("won", "sum")).reset_index()
    if history is None or history.empty:
        return Evidence(current)
    seen = pd.DataFrame({"stage": sorted(set(history["stage"]) - set(current["stage"]))})
    current = pd.concat([current, seen.assign(deals=0, closed=0, won=0)], ignore_index=True)
    firsts = history.groupby(["opp_id", "stage"], as_index=False)["entered_at"].min()
    pairs = firsts.merge(firsts, on="opp_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["entered_at_a"] < pairs["entered_at_b"]]
    precedence = (pairs.groupby(["stage_a", "stage_b"]).size().reset_index(name="deals")
                  .rename(columns={"stage_a": "earlier", "stage_b": "later"}))
    return Evidence(current, precedence, _timing(firsts, opportunities))


def _timing(firsts: pd.DataFrame, opportunities: pd.DataFrame | None) -> pd.DataFrame:
    """Median days from a deal's creation (else its first stage entry) to each first entry."""
    start = firsts.groupby("opp_id")["entered_at"].min()
    if opportunities is not None and "created_at" in opportunities:
        known = opportunities.dropna(subset=["opp_id", "created_at"]).drop_duplicates("opp_id")
        start = known.set_index("opp_id")["created_at"]
    days = (pd.to_datetime(firsts["entered_at"])
            - pd.to_datetime(firsts["opp_id"].map(start))).dt.days
    return (firsts.assign(days=days).dropna(subset=["days"]).groupby("stage")["days"].median()
            .reset_index())


def read(store: Store) -> pd.DataFrame:
    """The stages table in pipeline order (empty when nothing was derived yet)."""
    if "stages" not in store.tables():
        return pd.DataFrame(columns=list(COLUMNS))
    return store.query(f"SELECT {', '.join(COLUMNS)} FROM stages ORDER BY position")


def refresh(store: Store, lists: Sequence[StageList] = ()) -> pd.DataFrame:
    """Re-derive the stages table from all the data in the database, ``lists`` first, then what
    earlier imports stated; run it inside the caller's transaction. Returns the new table."""
    if "stages" not in store.tables():
        store.execute(schema.ddl_for("stages"))
    table = stage_table(evidence(store), [*lists, *stored_lists(read(store))])
    store.execute("DELETE FROM stages")
    if len(table):
        store.insert_frame("stages", table)
    return table


def stored_lists(table: pd.DataFrame) -> list[StageList]:
    """An existing table as evidence: stated orders, outcomes and roles are kept; probability and
    forecast category are kept for every stage (they came from exports no longer at hand)."""
    if table.empty:
        return []
    stated = table[table["ordered_by"].isin(STATED)]
    kept_role = stated["role"].where(stated["role_by"].isin(STATED), None)
    return [
        StageList(pd.DataFrame({"stage": stated["stage"], "outcome": stated["outcome"],
                                "role": kept_role, "source": stated["ordered_by"]}),
                  "stored", defines=True),
        StageList(table[["stage", "forecast_category", "probability"]], "stored", ordered=False),
    ]


def stage_table(evidence: Evidence, lists: Sequence[StageList] = ()) -> pd.DataFrame:
    """The stages table from the evidence and the stage lists (strongest list first)."""
    spelling = {str(s).lower(): str(s) for s in evidence.current["stage"]}
    lists = [_clean(sl, spelling) for sl in lists]
    names = _names(evidence, lists)
    counts = evidence.current.set_index("stage")
    outcome = {s: _outcome(s, lists, counts) for s in names}
    open_ = [s for s in names if outcome[s] == "open"]
    votes = _votes(evidence.precedence, set(open_))
    # a stage list's probability column holds numbers (or nothing)
    probability = cast(dict[str, float | None],
                       {s: _stated(s, lists, "probability")[0] for s in names})
    timing = dict(zip(evidence.timing["stage"], evidence.timing["days"], strict=True))
    chains = [[s for s in sl.frame["stage"] if s in open_] for sl in lists if sl.ordered]
    order = pipeline_order(open_, chains, votes, probability, timing)
    closed = sorted((s for s in names if outcome[s] != "open"),
                    key=lambda s: (outcome[s] == "lost", _chain_rank(s, lists),
                                   -_deals(counts, s), s))
    roles = pipeline_roles(order, _fixed_roles(lists, order))
    rows = [_row(s, i + 1, outcome[s], roles.get(s), probability[s], lists,
                 _ordered_by(s, outcome[s], lists, votes,
                             {"probability": probability, "timing": timing}))
            for i, s in enumerate(order + closed)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def pipeline_order(stages: Sequence[str], chains: Sequence[Sequence[str]],
                   votes: dict[tuple[str, str], float], probability: dict[str, float | None],
                   timing: dict[str, float] | None = None) -> list[str]:
    """Open stages in pipeline order: each inserted where it contradicts the least evidence,
    tier by tier (stated chains in priority order, stage history, probability, how far into a
    deal's life the stage is entered); ties go last."""
    tiers = [*(_chain_votes(c) for c in chains), votes, _rank_votes(stages, probability),
             _rank_votes(stages, timing or {})]
    placed: list[str] = []
    for stage in _insertion_sequence(stages, chains, votes, probability):
        placed.insert(_best_slot(stage, placed, tiers), stage)
    return placed


def pipeline_roles(open_order: Sequence[str], fixed: dict[str, tuple[str, str]] | None = None
                   ) -> dict[str, tuple[str, str]]:
    """stage -> (role, role_by) for the open stages in pipeline order (the rule is in the module
    doc); ``fixed`` maps a role to (stage, who named it) and wins over the rule."""
    fixed = {r: v for r, v in (fixed or {}).items() if v[0] in open_order}
    n, index = len(open_order), {s: i for i, s in enumerate(open_order)}
    if n < 2 and not fixed:
        return {}
    q = index[fixed["qualify"][0]] if "qualify" in fixed else (1 if n >= 5 else 0)
    p = index[fixed["propose"][0]] if "propose" in fixed else max(n - 2, q + 1)
    if "propose" in fixed and "qualify" not in fixed:
        q = min(q, p - 1)
    out: dict[str, tuple[str, str]] = {}
    for role, i in (("qualify", q), ("propose", p)):
        if 0 <= i < n and open_order[i] not in out:
            out[open_order[i]] = (role, fixed[role][1] if role in fixed else "rule")
    return out


def describe(table: pd.DataFrame) -> str:
    """One line a sales-ops person can check: the open stages in order with their roles, then
    the won and lost stages."""
    if table.empty:
        return "no stages yet"
    rows = table.sort_values("position")
    open_ = " -> ".join(s + (f" ({ROLE_NAMES[r]})" if isinstance(r, str) else "")
                        for s, r in zip(rows["stage"], rows["role"], strict=True)
                        if s in set(rows.loc[rows["outcome"] == "open", "stage"]))
    won = ", ".join(rows.loc[rows["outcome"] == "won", "stage"]) or "none"
    lost = ", ".join(rows.loc[rows["outcome"] == "lost", "stage"]) or "none"
    return f"{open_ or 'no open stages'}; won: {won}; lost: {lost}"


def _clean(sl: StageList, spelling: dict[str, str]) -> StageList:
    """Names in the data's spelling; outcomes, roles and categories in canonical words;
    probabilities as shares."""
    frame = sl.frame.copy()
    frame["stage"] = [spelling.get(str(s).strip().lower(), str(s).strip()) for s in frame["stage"]]
    frame = frame.drop_duplicates("stage")
    for column, allowed in (("outcome", schema.STAGE_OUTCOMES), ("role", schema.STAGE_ROLES)):
        if column in frame:
            frame[column] = [v.strip().lower() if isinstance(v, str) and v.strip().lower()
                             in allowed else None for v in frame[column]]
    if "forecast_category" in frame:
        frame["forecast_category"] = [category(v) for v in frame["forecast_category"]]
    if "probability" in frame:
        values = pd.to_numeric(frame["probability"], errors="coerce")
        frame["probability"] = (values / 100 if values.max() > 1 else values).clip(0, 1)
    return StageList(frame.reset_index(drop=True), sl.source, sl.ordered, sl.defines)


def category(value: object) -> str | None:
    """A forecast category in canonical words (Salesforce's and HubSpot's names), else None."""
    if not isinstance(value, str):
        return None
    return _CATEGORIES.get(re.sub(r"[^a-z]", "", value.lower()))


def _names(evidence: Evidence, lists: Sequence[StageList]) -> list[str]:
    names = [str(s) for s in evidence.current["stage"]]
    for sl in lists:
        if sl.defines:
            names += [s for s in sl.frame["stage"] if s not in names]
    return list(dict.fromkeys(names))


def _stated(stage: str, lists: Sequence[StageList], column: str) -> tuple[object, str | None]:
    """The first list's value for a stage (and that list's source), or (None, None)."""
    for sl in lists:
        if column not in sl.frame:
            continue
        hit = sl.frame.loc[sl.frame["stage"] == stage]
        if len(hit) and pd.notna(hit[column].iloc[0]):
            return hit[column].iloc[0], _source(sl, hit)
    return None, None


def _source(sl: StageList, hit: pd.DataFrame) -> str:
    if "source" in hit and isinstance(hit["source"].iloc[0], str):
        return str(hit["source"].iloc[0])
    return sl.source


def _outcome(stage: str, lists: Sequence[StageList], counts: pd.DataFrame) -> str:
    stated, _ = _stated(stage, lists, "outcome")
    if stated is not None:
        return str(stated)
    deals = _deals(counts, stage)
    if deals:
        won, closed = int(counts.at[stage, "won"]), int(counts.at[stage, "closed"])
        return "won" if won * 2 > deals else "lost" if closed * 2 > deals else "open"
    return _CLOSED_NAMES.get(re.sub(r"[^a-z]", "", stage.lower()), "open")


def _deals(counts: pd.DataFrame, stage: str) -> int:
    return int(counts.at[stage, "deals"]) if stage in counts.index else 0


def _votes(precedence: pd.DataFrame, open_: set[str]) -> dict[tuple[str, str], float]:
    return {(a, b): float(n) for a, b, n in precedence[["earlier", "later", "deals"]].itertuples(
        index=False, name=None) if a in open_ and b in open_ and a != b}


def _chain_votes(chain: Sequence[str]) -> dict[tuple[str, str], float]:
    return {(a, b): 1.0 for i, a in enumerate(chain) for b in chain[i + 1:]}


def _rank_votes(stages: Sequence[str], value: Mapping[str, float | None]
                ) -> dict[tuple[str, str], float]:
    """One vote for 'a comes before b' when a's value (probability, days) is lower than b's."""
    known = [(s, float(v)) for s in stages if (v := value.get(s)) is not None and v == v]
    return {(a, b): 1.0 for a, pa in known for b, pb in known if pa < pb}


def _insertion_sequence(stages: Sequence[str], chains: Sequence[Sequence[str]],
                        votes: dict[tuple[str, str], float],
                        probability: dict[str, float | None]) -> list[str]:
    """Stated stages first (in their lists' order), then the most-entered stages."""
    stated = list(dict.fromkeys(s for chain in chains for s in chain))
    mentions = {s: sum(n for pair, n in votes.items() if s in pair) for s in stages}
    rest = sorted((s for s in stages if s not in stated),
                  key=lambda s: (-mentions[s], probability.get(s) or 2.0, s))
    return stated + rest


def _best_slot(stage: str, placed: list[str], tiers: list[dict[tuple[str, str], float]]) -> int:
    def cost(i: int) -> tuple[float, ...]:
        return tuple(sum(t.get((stage, y), 0.0) for y in placed[:i])
                     + sum(t.get((y, stage), 0.0) for y in placed[i:]) for t in tiers)

    return min(range(len(placed) + 1), key=lambda i: (cost(i), -i))


def _chain_rank(stage: str, lists: Sequence[StageList]) -> int:
    for sl in lists:
        if sl.ordered and stage in set(sl.frame["stage"]):
            return list(sl.frame["stage"]).index(stage)
    return 10**6


def _fixed_roles(lists: Sequence[StageList], open_order: Sequence[str]
                 ) -> dict[str, tuple[str, str]]:
    """Roles a list names for an open stage: role -> (stage, the list's source); first list wins."""
    fixed: dict[str, tuple[str, str]] = {}
    for sl in lists:
        if "role" not in sl.frame:
            continue
        for i, (stage, role) in enumerate(zip(sl.frame["stage"], sl.frame["role"], strict=True)):
            if isinstance(role, str) and role not in fixed and stage in open_order:
                fixed[role] = (stage, _source(sl, sl.frame.iloc[[i]]))
    return fixed


def _ordered_by(stage: str, outcome: str, lists: Sequence[StageList],
                votes: dict[tuple[str, str], float],
                measures: Mapping[str, Mapping[str, float | None]]) -> str:
    """What placed the stage: a list's source, 'history', 'probability', 'timing', 'outcome'
    (won and lost stages come last) or 'unknown'."""
    for sl in lists:
        hit = sl.frame.loc[sl.frame["stage"] == stage]
        if sl.ordered and len(hit):
            return _source(sl, hit)
    if outcome != "open":
        return "outcome"
    if any(stage in pair for pair in votes):
        return "history"
    for name, values in measures.items():
        others = [s for s, v in values.items() if v is not None and v == v and s != stage]
        if values.get(stage) is not None and others:
            return name
    return "unknown"


def _row(stage: str, position: int, outcome: str, role: tuple[str, str] | None,
         probability: object, lists: Sequence[StageList], ordered_by: str) -> dict[str, object]:
    forecast, _ = _stated(stage, lists, "forecast_category")
    return {"stage": stage, "position": position, "outcome": outcome,
            "role": role[0] if role else None,
            "forecast_category": forecast or _DEFAULT_CATEGORY[outcome],
            "probability": None if probability is None else float(probability),  # type: ignore[arg-type]
            "ordered_by": ordered_by, "role_by": role[1] if role else None}
