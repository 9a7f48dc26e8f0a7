"""Strategy rollouts: the initiative card (what and how), its teams, versioned targets and reviews.

Targets are never overwritten: a quarterly re-calibration adds a new version with its own
``effective_from``, and the history stays for the charts (targets show as steps).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import pandas as pd

from kpi.catalog import Catalog, load_catalog
from kpi.errors import InvalidRequest, NotFound
from kpi.store import Store


@dataclass(frozen=True)
class Target:
    """One version of a lever or output goal: ``change_pct`` relative to the baseline."""

    metric_id: str
    change_pct: float
    effective_from: dt.date
    recorded_at: dt.datetime
    note: str = ""


@dataclass(frozen=True)
class Review:
    review_date: dt.date
    learned: str
    author: str = ""


@dataclass(frozen=True)
class Initiative:
    """A strategy rollout as every role sees it: the same card on every page."""

    initiative_id: str
    name: str
    strategy: str
    tactics: str
    rollout_date: dt.date
    baseline_weeks: int
    target_date: dt.date
    teams: tuple[tuple[str, dt.date], ...] = ()
    targets: tuple[Target, ...] = ()
    reviews: tuple[Review, ...] = ()

    @property
    def baseline_start(self) -> dt.date:
        return self.rollout_date - dt.timedelta(weeks=self.baseline_weeks)

    @property
    def baseline_end(self) -> dt.date:
        return self.rollout_date - dt.timedelta(days=1)

    @property
    def team_ids(self) -> tuple[str, ...]:
        return tuple(team_id for team_id, _ in self.teams)

    def metric_ids(self) -> list[str]:
        """Metrics with a target, in the order they were first set."""
        return list(dict.fromkeys(t.metric_id for t in self.targets))

    def target_on(self, metric_id: str, day: dt.date) -> Target | None:
        """The target version in effect on ``day``: latest effective_from, then latest recorded."""
        versions = [t for t in self.targets if t.metric_id == metric_id and t.effective_from <= day]
        return max(versions, key=lambda t: (t.effective_from, t.recorded_at), default=None)

    def target_history(self, metric_id: str) -> list[Target]:
        return sorted((t for t in self.targets if t.metric_id == metric_id),
                      key=lambda t: (t.effective_from, t.recorded_at))


def list_initiatives(store: Store) -> list[Initiative]:
    ids = store.query("SELECT initiative_id FROM initiatives ORDER BY rollout_date, name")
    return [get_initiative(store, i) for i in ids["initiative_id"]]


def get_initiative(store: Store, key: str) -> Initiative:
    """Look an initiative up by id or by name (case-insensitive)."""
    rows = store.query(
        "SELECT * FROM initiatives WHERE initiative_id = $k OR lower(name) = lower($k)", {"k": key}
    )
    if rows.empty:
        names = store.query("SELECT name FROM initiatives ORDER BY name")["name"].tolist()
        raise NotFound(f"no initiative named {key!r}",
                       f"known: {', '.join(names)}" if names else "create one first")
    row = rows.iloc[0]
    iid = row["initiative_id"]
    return Initiative(
        initiative_id=iid, name=row["name"], strategy=row["strategy"], tactics=row["tactics"],
        rollout_date=_date(row["rollout_date"]), baseline_weeks=int(row["baseline_weeks"]),
        target_date=_date(row["target_date"]), teams=_teams(store, iid),
        targets=_targets(store, iid), reviews=_reviews(store, iid),
    )


def create_initiative(store: Store, *, name: str, strategy: str, tactics: str,
                      rollout_date: dt.date, baseline_weeks: int, target_date: dt.date,
                      teams: dict[str, dt.date] | None = None,
                      targets: dict[str, float] | None = None,
                      catalog: Catalog | None = None) -> Initiative:
    """Create an initiative with its teams and launch targets in one transaction."""
    _check_card(name, rollout_date, baseline_weeks, target_date)
    iid = _slug(name)
    _check_name_free(store, name, iid)
    now = dt.datetime.now().replace(microsecond=0)
    with store.transaction():
        store.execute(
            """INSERT INTO initiatives VALUES ($id, $name, $strategy, $tactics, $rollout,
               $weeks, $target_date, $now)""",
            {"id": iid, "name": name.strip(), "strategy": strategy, "tactics": tactics,
             "rollout": rollout_date, "weeks": baseline_weeks, "target_date": target_date,
             "now": now},
        )
        for team_id, adopted in (teams or {}).items():
            store.execute("INSERT INTO initiative_teams VALUES ($i, $t, $d)",
                          {"i": iid, "t": team_id, "d": adopted})
        for metric_id, change in (targets or {}).items():
            _insert_target(store, iid, metric_id, change, rollout_date, "launch target", catalog)
    return get_initiative(store, iid)


def update_initiative(store: Store, initiative_id: str, *, name: str, strategy: str, tactics: str,
                      rollout_date: dt.date, baseline_weeks: int, target_date: dt.date,
                      teams: dict[str, dt.date]) -> Initiative:
    """Edit the card, dates and teams; targets and reviews keep their history untouched."""
    current = get_initiative(store, initiative_id)
    _check_card(name, rollout_date, baseline_weeks, target_date)
    if name.strip().lower() != current.name.lower():
        _check_name_free(store, name, None)
    with store.transaction():
        store.execute(
            """UPDATE initiatives SET name = $name, strategy = $strategy, tactics = $tactics,
                 rollout_date = $rollout, baseline_weeks = $weeks, target_date = $target_date
               WHERE initiative_id = $id""",
            {"id": current.initiative_id, "name": name.strip(), "strategy": strategy,
             "tactics": tactics, "rollout": rollout_date, "weeks": baseline_weeks,
             "target_date": target_date},
        )
        store.execute("DELETE FROM initiative_teams WHERE initiative_id = $i",
                      {"i": current.initiative_id})
        for team_id, adopted in teams.items():
            store.execute("INSERT INTO initiative_teams VALUES ($i, $t, $d)",
                          {"i": current.initiative_id, "t": team_id, "d": adopted})
    return get_initiative(store, current.initiative_id)


def _check_card(name: str, rollout_date: dt.date, baseline_weeks: int,
                target_date: dt.date) -> None:
    if not name.strip():
        raise InvalidRequest("an initiative needs a name")
    if target_date <= rollout_date:
        raise InvalidRequest("the target date must come after the rollout date")
    if baseline_weeks < 1:
        raise InvalidRequest("the baseline needs at least one week")


def _check_name_free(store: Store, name: str, iid: str | None) -> None:
    taken = store.scalar("SELECT count(*) FROM initiatives WHERE initiative_id = $i "
                         "OR lower(name) = lower($n)", {"i": iid or "", "n": name.strip()})
    if taken:
        raise InvalidRequest(f"an initiative named {name.strip()!r} already exists",
                             "pick another name, or re-calibrate its targets instead")


def recalibrate(store: Store, initiative_id: str, metric_id: str, change_pct: float,
                effective_from: dt.date, note: str = "", catalog: Catalog | None = None) -> Target:
    """Add a new target version; earlier versions stay in history."""
    with store.transaction():
        return _insert_target(store, initiative_id, metric_id, change_pct, effective_from, note,
                              catalog)


def add_review(store: Store, initiative_id: str, review_date: dt.date, learned: str,
               author: str = "") -> Review:
    if not learned.strip():
        raise InvalidRequest("a review needs a note of what was learned")
    with store.transaction():
        store.execute(
            "INSERT INTO reviews VALUES ($id, $i, $d, $learned, $author, $now)",
            {"id": uuid.uuid4().hex[:12], "i": initiative_id, "d": review_date,
             "learned": learned.strip(), "author": author, "now": dt.datetime.now()},
        )
    return Review(review_date, learned.strip(), author)


def _insert_target(store: Store, iid: str, metric_id: str, change_pct: float,
                   effective_from: dt.date, note: str, catalog: Catalog | None) -> Target:
    (catalog or load_catalog()).get(metric_id)
    if not -1.0 < change_pct < 10.0:
        raise InvalidRequest(f"target change {change_pct:+.0%} is out of range",
                             "give it as a fraction, e.g. 0.25 for +25%")
    recorded = dt.datetime.now()
    store.execute(
        "INSERT INTO initiative_targets VALUES ($id, $i, $m, $c, $f, $r, $n)",
        {"id": uuid.uuid4().hex[:12], "i": iid, "m": metric_id, "c": float(change_pct),
         "f": effective_from, "r": recorded, "n": note},
    )
    return Target(metric_id, float(change_pct), effective_from, recorded, note)


def _teams(store: Store, iid: str) -> tuple[tuple[str, dt.date], ...]:
    rows = store.query("SELECT team_id, adopted_on FROM initiative_teams WHERE initiative_id = $i "
                       "ORDER BY adopted_on, team_id", {"i": iid})
    return tuple((r.team_id, _date(r.adopted_on)) for r in rows.itertuples())


def _targets(store: Store, iid: str) -> tuple[Target, ...]:
    rows = store.query("SELECT * FROM initiative_targets WHERE initiative_id = $i "
                       "ORDER BY effective_from, recorded_at", {"i": iid})
    return tuple(
        Target(r.metric_id, float(r.change_pct), _date(r.effective_from),
               pd.Timestamp(r.recorded_at).to_pydatetime(), r.note or "")
        for r in rows.itertuples()
    )


def _reviews(store: Store, iid: str) -> tuple[Review, ...]:
    rows = store.query("SELECT * FROM reviews WHERE initiative_id = $i ORDER BY review_date",
                       {"i": iid})
    return tuple(Review(_date(r.review_date), r.learned, r.author or "") for r in rows.itertuples())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or uuid.uuid4().hex[:8]


def _date(value: object) -> dt.date:
    day: dt.date = pd.Timestamp(value).date()
    return day
