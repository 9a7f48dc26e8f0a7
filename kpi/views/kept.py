"""The insights kept between visits: what is asked after each import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpi.engine import Engine, Scope
from kpi.people import teams
from kpi.views.context import as_of, initiatives_for, last_year
from kpi.views.forecast import pipeline_coverage_needed, quarter_forecast
from kpi.views.leads import lead_lag_detail, lead_lag_review, lead_lags, lead_pairs
from kpi.views.outputs import rep_win_rates
from kpi.views.rollout import (
    ROLLOUT_OUTPUTS,
    rollout_effects,
    rollout_levers,
    rollout_output_effects,
)

if TYPE_CHECKING:  # the insights import statsmodels and scipy: loaded when first used
    from kpi.store import Store


# the views whose answers are kept in the database per data version (kpi.insights.stored): the
# statistics, which take seconds to minutes on a large company
STORED = (lead_lags, lead_lag_detail, lead_lag_review, rollout_effects, rollout_output_effects,
          quarter_forecast, pipeline_coverage_needed, rep_win_rates)


def as_asked(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A kept question's arguments as they are asked and kept: an admin's company-wide scope as
    the executive's (the same rows, and an admin may see all the executive sees), so an admin's
    first visit reads the answers computed after the import instead of computing its own."""
    return tuple(a.seen_by("executive") if isinstance(a, Scope) and a.role == "admin"
                 and a.kind == "all" else a for a in args)


def insight_questions(engine: Engine) -> list[tuple[Any, ...]]:
    """What the executive's Insights page asks on the current data, company-wide: computed after
    each import so that its first visit reads them (a team's or a rep's questions are computed
    on their first visit and kept from then on)."""
    day = as_of(engine)
    executive = Scope.everyone().seen_by("executive")
    levers, outputs = lead_pairs(engine.catalog)
    from kpi.insights.forecast import past_quarters

    # in the order the page asks them, so that a visit during the refresh mostly waits for
    # what the refresh is computing rather than computing the same a second time
    questions: list[tuple[Any, ...]] = [
        (past_quarters, (day,)),  # first: every forecast below reads it
        (quarter_forecast, (executive, day)), (pipeline_coverage_needed, (executive, day))]
    for initiative in initiatives_for(engine, Scope.everyone()):
        questions += [(rollout_effects, (initiative, rollout_levers(engine.catalog, initiative))),
                      (rollout_output_effects, (initiative, ROLLOUT_OUTPUTS))]
    questions.append((lead_lags, (levers, outputs, day)))
    if levers and outputs:  # the lead-lag page's first lever and output
        questions.append((lead_lag_detail, (levers[0], outputs[0], day)))
    questions.append((rep_win_rates, (executive, last_year(day))))
    if levers and outputs:  # asked when its expander is opened
        questions.append((lead_lag_review, (levers[0], outputs[0], day)))
    return questions


def team_questions(engine: Engine) -> list[tuple[Any, ...]]:
    """What each team's manager's Insights page asks that is kept (the forecast, the pipeline it
    needs, the win rates): computed after the executive's in the app's background refresh, so a
    manager's first visit after an import reads them too."""
    day = as_of(engine)
    questions: list[tuple[Any, ...]] = []
    for team_id, _ in teams(engine.store, Scope.everyone()):
        manager = Scope.teams(team_id).seen_by("manager")
        questions += [(quarter_forecast, (manager, day)), (pipeline_coverage_needed, (manager, day)),
                      (rep_win_rates, (manager, last_year(day)))]
    return questions


def insights_current(engine: Engine) -> bool:
    """Whether every question of :func:`insight_questions` has an answer kept by this code on the
    current data version (False after an upgrade of leverboard, or after an import with
    ``--no-insights``)."""
    from kpi.insights import stored

    return all(stored.readable(engine, fn, *args) for fn, args in insight_questions(engine))


def refresh_insights(engine: Engine, keeper: Store, teams: bool = False
                     ) -> dict[str, float | str]:
    """Compute and keep :func:`insight_questions` (and with ``teams`` :func:`team_questions`) on
    the current data; seconds per view (or why it could not be answered)."""
    from kpi.insights import stored

    return stored.refresh(engine, keeper, insight_questions(engine)
                          + (team_questions(engine) if teams else []))
