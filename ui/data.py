"""The pages' one door to the data: a cached function per view of kpi.views, and the few reads
of the store's current state (people, imports) that must never be cached.

Each view here has the signature of its kpi.views function without the engine, so an editor or
type checker follows a page to its query: ``data.cards(OUTPUTS, grain, day, scope, None)`` is
``views.cards(engine, OUTPUTS, grain, day, scope, None)``, cached.

A cached result (kpi.answers) is keyed on the database, its state, the view and its arguments.
The viewer's scope is always one of the arguments, so a cached result can never be served to a
user with a different scope. The state (the data version and the strategy rollouts' edits, read
at most every few seconds) is part of the key, so an import or an edit made by any process shows
on every page within seconds. The statistics of the Insights
page (``views.STORED``) are answered from the database's kept insights (kpi.insights.stored):
computed once per data version, shared by every process; ``data.lead_lags.kept(...)`` says when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import pandas as pd

from kpi import answers, auth, people, split, views
from kpi.answers import Recent as Recent  # the figures' store (ui.widgets)
from kpi.answers import digest as digest
from kpi.engine import Engine, Scope
from kpi.ingest.load import freshness as _freshness
from kpi.ingest.load import recent_imports as _recent_imports
from kpi.ingest.plan import Plan, Source, plan_import
from kpi.ingest.presets import Preset
from kpi.insights import stored
from ui import session

P = ParamSpec("P")
R = TypeVar("R")


ANSWERS = answers.ANSWERS


def forget_answers() -> None:
    """Drop every answer of this process (after an edit saved here: other processes see it
    within answers.STATE_SECONDS)."""
    answers.forget()


def _call(db: str, version: tuple[int, str], kept: int | None, name: str, fn: Callable[..., Any],
          args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """``fn(engine, *args, **kwargs)`` through :data:`ANSWERS`; ``name`` stands for ``fn``."""
    def compute() -> Any:
        if fn in views.STORED:
            assert not kwargs, "the stored views are called with positional arguments"
            return stored.answer(session.engine(), fn, *args, keeper=session.writer())
        return fn(session.engine(), *args, **dict(kwargs))

    return ANSWERS.get((db, version, kept, name, args, kwargs), compute)


def _version() -> tuple[int, str]:
    """The database's state, read again every answers.STATE_SECONDS (an import rebuilds the
    rollups: which exist is read again with it)."""
    engine = session.engine()
    return answers.current_state(engine.store, engine.forget_rollups)


class View(Generic[P, R]):
    """A kpi.views function, called with this session's engine, through the cache."""

    def __init__(self, fn: Callable[Concatenate[Engine, P], R]) -> None:
        self.fn = fn
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.__doc__ = fn.__doc__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        db = session.db_path()
        found: int | None = None
        if self.fn in views.STORED:
            args = views.as_asked(args)  # type: ignore[assignment]
            info = self.kept(*args, **kwargs)
            if info is not None and not info.fresh:
                # the last answer, while a background thread computes the new one: never cached
                # here, so the new answer shows as soon as it is kept
                answer: R = stored.answer(session.engine(), self.fn, *args,
                                          keeper=session.writer())
                return answer
            found = None if info is None else info.version  # a newly kept answer: a new entry
        result: R = _call(db, _version(), found, self.name, self.fn, args,
                          tuple(sorted(kwargs.items())))
        return result

    def kept(self, *args: P.args, **kwargs: P.kwargs) -> stored.Kept | None:
        """When the kept answer to this question was computed (None: not kept)."""
        assert not kwargs, "the stored views are called with positional arguments"
        return stored.status(session.engine(), self.fn, *views.as_asked(args))


# --- the views, cached -------------------------------------------------------------------------

as_of = View(views.as_of)
data_range = View(views.data_range)
initiative_choice = View(views.initiative_choice)
initiative_progress = View(views.initiative_progress)
cards = View(views.cards)
trend = View(views.trend)
initiative_trend = View(views.initiative_trend)
segments = View(views.segments)
lever_weeks = View(views.lever_weeks)
off_track = View(views.off_track)
pace = View(views.pace)
streaks = View(views.streaks)
rep_trend = View(views.rep_trend)
team_average = View(views.team_average)
target_history = View(views.target_history)
review_history = View(views.review_history)
run = View(views.run)
rep_win_rates = View(views.rep_win_rates)
levers_to_push = View(views.levers_to_push)
# the Insights page's statistics, kept in the database
lead_lags = View(views.lead_lags)
lead_lag_detail = View(views.lead_lag_detail)
lead_lag_review = View(views.lead_lag_review)
rollout_effects = View(views.rollout_effects)
rollout_output_effects = View(views.rollout_output_effects)
quarter_forecast = View(views.quarter_forecast)
pipeline_coverage_needed = View(views.pipeline_coverage_needed)


# --- the store's current state, never cached (an edit shows at once) ---------------------------

def teams(scope: Scope) -> list[tuple[str, str]]:
    """(team id, name) of the teams ``scope`` may see."""
    return people.teams(session.engine().store, scope)


def members(scope: Scope, start: dt.date, end: dt.date) -> list[people.Member]:
    """The reps ``scope`` may see who were on a team between ``start`` and ``end``."""
    return people.members(session.engine().store, scope, start, end)


def narrow(scope: Scope, *, team_id: str | None = None, rep_id: str | None = None) -> Scope:
    """``scope`` narrowed to one of its teams or reps (refused when it is not within it)."""
    return people.narrow(session.engine().store, scope, team_id=team_id, rep_id=rep_id)


def users() -> list[people.User]:
    return people.list_users(session.engine().store)


def authenticate(login: str, password: str) -> people.User:
    """The user whose login and password these are (refused with auth.SignInFailed)."""
    return auth.authenticate(session.engine().store, login, password,
                             client=session.client_address())


def is_demo() -> bool:
    return auth.is_demo(session.engine().store)


def takes_imports() -> bool:
    """Whether this database takes imports (a warehouse's tables are kept by its pipelines)."""
    return split.takes_imports(session.engine().store)


def last_change() -> dict[str, Any] | None:
    """When the data last changed (an import, a refresh) and why; never cached."""
    return stored.last_change(session.engine().store)


def freshness() -> dict[str, object]:
    return _freshness(session.engine().store)


def recent_imports() -> pd.DataFrame:
    return _recent_imports(session.engine().store)


def plan(sources: list[Source], preset: Preset) -> Plan:
    """What importing ``sources`` with ``preset`` would change in this database."""
    return plan_import(sources, preset, session.engine().store)
