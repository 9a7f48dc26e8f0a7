"""What each page a rep or a manager can open computes, called the way app_pages/ and ui/ call it.

Every page is replayed with the widgets at their defaults (and a few other choices: each lever,
another grain, no initiative), reading the viewer's scope exactly as the page passes it. Each
call is recorded with what it was about, so the tests can compare one company with another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kpi import views
from kpi.catalog import Catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.errors import KpiError
from kpi.initiatives import Initiative
from kpi.people import User, members, narrow, team_of, teams
from kpi.periods import Window
from kpi.sources import ALL_DIMENSIONS

from .company import TODAY


@dataclass(frozen=True)
class Refused:
    """A view that raised a KpiError (the page shows the message)."""

    error: str
    message: str


@dataclass(frozen=True)
class Seen:
    label: str  # stable across companies: what was asked, in words
    view: str  # the kpi.views function
    value: Any
    about: dict[str, Any] = field(default_factory=dict)  # rep, metric, initiative of the call


@dataclass(frozen=True)
class Viewer:
    key: str
    role: str  # 'rep' or 'manager'
    rep_id: str | None = None
    team_id: str | None = None

    @property
    def user(self) -> User:
        return User(self.key, self.key, self.role, self.rep_id, self.team_id)


class Page:
    """One page replay: the engine, the viewer, and everything the page was shown."""

    def __init__(self, engine: Engine, viewer: Viewer, new_reps: frozenset[str]) -> None:
        self.engine, self.viewer, self.new_reps = engine, viewer, new_reps
        self.seen: list[Seen] = []

    def view(self, label: str, name: str, *args: Any, **about: Any) -> Any:
        try:
            value = getattr(views, name)(self.engine, *args)
        except KpiError as exc:
            value = Refused(type(exc).__name__, str(exc))
        about.setdefault("rep", self.viewer.rep_id)
        if about.get("rep") in self.new_reps:
            about["new_rep"] = True
        self.seen.append(Seen(label, name, value, about))
        return value

    def start(self, scope: Scope | None = None, card: bool = True) -> tuple[dt.date, Window,
                                                                            list[Initiative]]:
        """ui.frame.start: the data's range and 'today', the initiatives offered, the card."""
        viewer = scope or self.viewer.user.scope
        lo, hi = self.view("data range", "data_range")
        day = self.view("as of", "as_of", TODAY)
        offered, default = self.view("initiatives offered", "initiative_choice", viewer)
        choices = [default, *(i for i in offered if i != default)]
        if card:
            for initiative in choices:
                if initiative is not None:
                    self.view(f"card {initiative.initiative_id}", "initiative_progress", initiative,
                              day, viewer, initiative=initiative.initiative_id)
        return day, Window(lo, hi), choices

    @property
    def catalog(self) -> Catalog:
        return self.engine.catalog


def default_window(day: dt.date, bounds: Window, years: int) -> Window:
    """ui.frame.Page.default_window, then widgets.date_range at its default."""
    start = max(bounds.start, day.replace(year=day.year - years))
    return Window(max(start, bounds.start), min(day, bounds.end))


def _iid(initiative: Initiative | None) -> str:
    return initiative.initiative_id if initiative else "none"


def shown(page: Page, place: str) -> tuple[str, ...]:
    """What the page shows in ``place`` to its viewer (ui.frame.Page.shown)."""
    return page.engine.catalog.shown(place, page.viewer.user.role)


def rep_view(page: Page, scope: Scope, day: dt.date, bounds: Window,
             initiative: Initiative | None, all_levers: bool = True) -> None:
    """ui.rep_view.show: pace, streaks, a lever's trend against the own baseline, outputs, for
    one rep as the page scoped them (My levers: the rep; Coaching: kpi.people.narrow)."""
    rep_id = scope.ids[0]
    at = f"{rep_id} {_iid(initiative)}"
    about = {"rep": rep_id, "initiative": _iid(initiative)}
    levers = shown(page, "levers")
    page.view(f"pace {at}", "pace", scope, levers, day, initiative, **about)
    page.view(f"streaks {at}", "streaks", scope, levers[:3], day, initiative, **about)
    window = default_window(day, bounds, 1)
    trends = [(lever, "week") for lever in (levers if all_levers else levers[:1])]
    if initiative is not None:
        trends += [("new_prospect_meetings", "month"), ("pipeline_created", "quarter")]
    for lever, grain in trends:
        page.view(f"trend {lever} {grain} {at}", "rep_trend", scope, lever, grain, window,
                  initiative, metric=lever, **about)
    page.view(f"outputs {at}", "cards", shown(page, "consequences"), "quarter", day, scope, initiative,
              **about)


def my_levers(page: Page) -> None:
    """app_pages/me.py (and, for an established rep, as it shows with no initiative)."""
    day, bounds, choices = page.start()
    scope = page.viewer.user.scope
    rep_view(page, scope, day, bounds, choices[0])
    if page.viewer.rep_id not in page.new_reps:
        rep_view(page, scope, day, bounds, None, all_levers=False)


def insights(page: Page, leads: Callable[[dt.date], Any]) -> None:
    """app_pages/insights.py for a rep or a manager (ui/insights.py, ui/honest.py).

    ``leads``: the lead-lag table the page computes first (views.lead_lags, all teams: a
    declared aggregate), given here so that levers_to_push is held to the viewer's scope alone.
    """
    day, _, choices = page.start(card=False)
    initiative = choices[0]
    user = page.viewer.user
    table = leads(day)
    scope = user.scope  # as the Insights page passes it
    page.view("levers to push", "levers_to_push", scope, day, initiative, table,
              rep=user.rep_id, initiative=_iid(initiative))
    if user.role == "manager":
        page.view("forecast", "quarter_forecast", user.scope, day)
        page.view("coverage needed", "pipeline_coverage_needed", user.scope, day)
        page.view("win rates", "rep_win_rates", user.scope,
                  Window(day.replace(year=day.year - 1), day))


def rollouts(page: Page) -> None:
    """app_pages/rollouts.py, read-only part: each initiative the viewer is offered."""
    day, _, choices = page.start()
    user = page.viewer.user
    for initiative in [i for i in choices if i is not None]:
        window = Window(initiative.baseline_start, day)
        for metric in initiative.metric_ids():
            for grain in ("month", "week") if initiative == choices[0] else ("month",):
                page.view(f"rollout {initiative.initiative_id} {metric} {grain}",
                          "initiative_trend", metric, grain, window, user.scope, initiative,
                          rep=user.rep_id, metric=metric, initiative=initiative.initiative_id)
        page.view(f"targets {initiative.initiative_id}", "target_history", initiative)
        page.view(f"reviews {initiative.initiative_id}", "review_history", initiative)


def explore(page: Page) -> None:
    """app_pages/explore.py: every metric by month, and the splits the role may pick."""
    day, bounds, _ = page.start(card=False)
    user = page.viewer.user
    window = default_window(day, bounds, 2)
    allowed = sorted(ALL_DIMENSIONS - ({"rep", "team"} if user.role == "rep" else set()))
    asks = [(m, "month", ()) for m in page.catalog.ids()]
    asks += [("revenue", "quarter", (d,)) for d in allowed]
    asks += [("win_rate", "quarter", ("industry", "motion")), ("demos", "week", ("region",))]
    asks += [("new_prospect_meetings", g, ()) for g in ("day", "year", "total")]
    for metric, grain, by in asks:
        request = MetricRequest.make(metric, grain=grain, by=by, date_from=window.start,
                                     date_to=window.end, scope=user.scope)
        page.view(f"explore {metric} {grain} {by}", "run", request, rep=user.rep_id,
                  metric=metric)


def team_levers(page: Page) -> None:
    """app_pages/team.py"""
    user = page.viewer.user
    allowed = teams(page.engine.store, user.scope)
    page.seen.append(Seen("teams offered", "teams", allowed))
    scope = narrow(page.engine.store, user.scope, team_id=allowed[0][0])
    day, _, choices = page.start(scope)
    for initiative in (choices[0], None):
        at = _iid(initiative)
        levers = (*shown(page, "levers")[:3], "stage_conversion") if initiative else shown(page, "levers")[:1]
        for lever in levers:
            for against in ("target", "own"):
                page.view(f"heat map {lever} {against} {at}", "lever_weeks", lever, scope, day, 12,
                          initiative, against, metric=lever, initiative=at)
        page.view(f"off track {at}", "off_track", shown(page, "levers")[:3], scope, day, initiative,
                  initiative=at)
        page.view(f"team outputs {at}", "cards", shown(page, "consequences"), "quarter", day, scope,
                  initiative, initiative=at)
    page.view("win rates", "rep_win_rates", scope, Window(day.replace(year=day.year - 1), day))


def coaching(page: Page, moved: bool = False) -> None:
    """app_pages/coaching.py: the reps listed, then the first of them who stayed in the team all
    year (``moved``: each rep who joined or left the team during the year)."""
    user = page.viewer.user
    day, bounds, choices = page.start(card=False)
    start = default_window(day, bounds, 1).start
    listed = members(page.engine.store, user.scope, start, day)
    page.seen.append(Seen("reps listed", "members", listed))
    stayed = [m.rep_id for m in listed if not _moved(page, m.rep_id, start, day)]
    for member in listed:
        if _moved(page, member.rep_id, start, day) != moved:
            continue
        if not moved and member.rep_id != stayed[0]:
            continue  # the others stayed too: the same reads for another rep id
        scope = narrow(page.engine.store, user.scope, rep_id=member.rep_id)
        rep_view(page, scope, day, bounds, choices[0], all_levers=False)


def _moved(page: Page, rep_id: str, start: dt.date, day: dt.date) -> bool:
    teams_then = {team_of(page.engine.store, rep_id, d) for d in (start, day)}
    return teams_then != {page.viewer.team_id}


def coaching_moved(page: Page) -> None:
    coaching(page, moved=True)


def building_blocks(page: Page) -> None:
    """The views no page calls directly, called with the viewer's scope as their callers do."""
    user = page.viewer.user
    day, bounds, choices = page.start(card=False)
    scope, initiative = user.scope, choices[0]
    window = default_window(day, bounds, 1)
    ids = ([user.rep_id] if user.role == "rep"
           else [m.rep_id for m in members(page.engine.store, scope, window.start, day)])
    within = scope.ids if scope.kind == "team" else ()  # as views.lever_weeks bounds a team's reps
    for lever in ("demos", "stage_conversion"):
        page.view(f"trend {lever}", "trend", lever, "month", window, scope, None, metric=lever)
        page.view(f"trend {lever} {initiative.initiative_id}", "trend", lever, "month", window,
                  scope, initiative, metric=lever, initiative=initiative.initiative_id)
        page.view(f"target {lever}", "lever_target", initiative, lever, day, metric=lever,
                  initiative=initiative.initiative_id)
        page.view(f"targets {lever}", "lever_targets", initiative, lever,
                  [initiative.rollout_date, day], metric=lever, initiative=initiative.initiative_id)
        page.view(f"own baselines {lever}", "own_baselines", lever, ids,
                  views.baseline_window(initiative, day), day, within, metric=lever)
        if user.role == "rep":
            page.view(f"team average {lever}", "team_average", user.scope, lever, "week", window,
                      metric=lever, rep=user.rep_id)
    for dimension in views.SEGMENT_DIMENSIONS[:2]:
        page.view(f"segments {dimension}", "segments", dimension, window, scope, day)
    page.view("covers", "covers", initiative, scope)


PAGES: dict[str, dict[str, Callable[..., None]]] = {
    "rep": {"my_levers": my_levers, "insights": insights, "rollouts": rollouts,
            "explore": explore, "views": building_blocks},
    "manager": {"team_levers": team_levers, "coaching": coaching,
                "coaching_moved": coaching_moved, "insights": insights,
                "rollouts": rollouts, "explore": explore, "views": building_blocks},
}
