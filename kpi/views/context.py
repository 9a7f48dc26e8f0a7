"""What day the pages are on and which initiative they follow."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi.baseline import Progress, progress_many
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import Initiative, list_initiatives
from kpi.people import teams, teams_of
from kpi.periods import Window, period_start, shift_years


def as_of(engine: Engine, today: dt.date | None = None) -> dt.date:
    """The day the views are 'now': today, or the last day with data if that is earlier."""
    return min(today or dt.date.today(), engine.data_range()[1])


def data_range(engine: Engine) -> tuple[dt.date, dt.date]:
    return engine.data_range()


def initiatives_for(engine: Engine, scope: Scope) -> list[Initiative]:
    """Initiatives a viewer may pick: those that cover the scope first (the first one is the
    default), newest rollout first. A rep or a manager sees only the initiatives that cover
    them; an executive also sees team initiatives, after the company-wide ones."""
    found = sorted(list_initiatives(engine.store), key=lambda i: i.rollout_date, reverse=True)
    covering = [i for i in found if covers(engine, i, scope)]
    if scope.kind != "all":
        return covering
    return covering + [i for i in found if i not in covering]


def covers(engine: Engine, initiative: Initiative, scope: Scope) -> bool:
    """Whether the initiative is about the scope: company-wide ones (no teams, or every team)
    cover everyone, a team initiative its teams and the reps who were in them since its
    baseline began."""
    if not initiative.team_ids:
        return True
    if scope.kind == "all":
        return {t for t, _ in teams(engine.store, scope)} <= set(initiative.team_ids)
    if scope.kind == "team":
        return bool(set(scope.ids) & set(initiative.team_ids))
    if scope.kind == "rep":
        return any(teams_of(engine.store, r, initiative.baseline_start) & set(initiative.team_ids)
                   for r in scope.ids)
    return False


def default_initiative(engine: Engine, scope: Scope,
                       initiatives: list[Initiative]) -> Initiative | None:
    """The initiative a page opens with: the newest one that covers the viewer, or none."""
    return next((i for i in initiatives if covers(engine, i, scope)), None)


def initiative_choice(engine: Engine, scope: Scope) -> tuple[list[Initiative], Initiative | None]:
    """What every page's initiative picker offers the viewer, and the one it opens with."""
    offered = initiatives_for(engine, scope)
    return offered, default_initiative(engine, scope, offered)


def initiative_progress(engine: Engine, initiative: Initiative, day: dt.date,
                        scope: Scope) -> list[Progress]:
    """Each targeted metric of the initiative card, within the viewer's scope."""
    return progress_many(engine, initiative, initiative.metric_ids(), day, scope)


def baseline_window(initiative: Initiative | None, day: dt.date) -> Window:
    """The initiative's baseline weeks, or (no initiative) the 13 weeks before the last 13."""
    if initiative is not None:
        return Window(initiative.baseline_start, initiative.baseline_end)
    end = period_start(day, "week") - dt.timedelta(weeks=13, days=1)
    return Window(end - dt.timedelta(weeks=13, days=-1), end)


def run(engine: Engine, request: MetricRequest) -> pd.DataFrame:
    """One metric request as it is (the explorer)."""
    return engine.run(request)


def last_year(day: dt.date) -> Window:
    """The year to ``day`` that the Insights page's win rates and forecasts look back on."""
    return Window(shift_years(day, -1), day)
