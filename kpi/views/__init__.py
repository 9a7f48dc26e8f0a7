"""What each role's page shows, computed by the engine; pages call these and only draw.

Every function takes the viewer's :class:`~kpi.engine.Scope` and passes it to each request, so
what a page can show is decided here, in the data layer. Levers are compared two ways: against
the initiative's target (the initiative-wide baseline per rep-week, raised by the target change in
effect that week: one standard for everyone) and against the rep's own baseline. Which metrics
each page shows is the catalog's `shown_in` (:meth:`kpi.catalog.Catalog.shown`).

One module per question: :mod:`~kpi.views.context` (the day, the initiative),
:mod:`~kpi.views.outputs` (cards, trends, segments), :mod:`~kpi.views.levers` (levers against
targets and own baselines), :mod:`~kpi.views.rep` (one rep's pace, streaks and trend),
:mod:`~kpi.views.leads` (which levers lead, which to push), :mod:`~kpi.views.rollout` (what a
rollout caused), :mod:`~kpi.views.forecast` (where the quarter lands) and
:mod:`~kpi.views.kept` (the insights computed after each import). This package exports them all.
"""

from __future__ import annotations

from kpi.views.context import (
    as_of,
    baseline_window,
    covers,
    data_range,
    default_initiative,
    initiative_choice,
    initiative_progress,
    initiatives_for,
    last_year,
    run,
)
from kpi.views.forecast import (
    pipeline_coverage_needed,
    quarter_forecast,
)
from kpi.views.kept import (
    STORED,
    as_asked,
    insight_questions,
    insights_current,
    refresh_insights,
    team_questions,
)
from kpi.views.leads import (
    LEAD_OUTPUT,
    lead_lag_detail,
    lead_lag_review,
    lead_lags,
    lead_pairs,
    levers_to_push,
    seen_leads,
)
from kpi.views.levers import (
    lever_target,
    lever_targets,
    lever_weeks,
    off_track,
    own_baselines,
)
from kpi.views.outputs import (
    SEGMENT_DIMENSIONS,
    SEGMENT_METRICS,
    Card,
    cards,
    initiative_trend,
    rep_win_rates,
    segments,
    trend,
)
from kpi.views.rep import (
    Pace,
    Streak,
    pace,
    rep_scope,
    rep_trend,
    streaks,
    team_average,
)
from kpi.views.rollout import (
    ROLLOUT_OUTPUTS,
    review_history,
    rollout_effects,
    rollout_levers,
    rollout_output_effects,
    target_history,
)

__all__ = [
    "as_of",
    "data_range",
    "initiatives_for",
    "covers",
    "default_initiative",
    "initiative_choice",
    "initiative_progress",
    "baseline_window",
    "run",
    "last_year",
    "SEGMENT_DIMENSIONS",
    "SEGMENT_METRICS",
    "Card",
    "cards",
    "trend",
    "initiative_trend",
    "segments",
    "rep_win_rates",
    "lever_target",
    "lever_targets",
    "own_baselines",
    "lever_weeks",
    "off_track",
    "Pace",
    "rep_scope",
    "pace",
    "Streak",
    "streaks",
    "rep_trend",
    "team_average",
    "LEAD_OUTPUT",
    "lead_pairs",
    "seen_leads",
    "lead_lags",
    "lead_lag_detail",
    "lead_lag_review",
    "levers_to_push",
    "target_history",
    "review_history",
    "rollout_effects",
    "rollout_output_effects",
    "ROLLOUT_OUTPUTS",
    "rollout_levers",
    "quarter_forecast",
    "pipeline_coverage_needed",
    "STORED",
    "as_asked",
    "insight_questions",
    "insights_current",
    "team_questions",
    "refresh_insights",
]
