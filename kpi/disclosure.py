"""The numbers a rep or a manager sees that include other people's rows, declared in one place.

Everything else a rep or a manager is shown is computed from their own scope: a rep's own rows, a
manager's team's rows on the days each rep was in the team. The aggregates below are the
exceptions, on purpose. Each says whose rows it includes, the smallest group it may be computed
over (below it a viewer could work a colleague's number out from their own), who is shown it, and
where: the :mod:`kpi.views` function and the fields or columns that carry it or are derived from
it. The metamorphic scope tests (tests/scope/) hold the views to this list: when other people's
data change, only these fields may change, and each of them must.
"""

from __future__ import annotations

from dataclasses import dataclass

SET = "<set>"  # a ``where`` value: the field holds a value (not None, not NaN)
PER_REP_WEEK = "<per-rep-week lever>"  # a ``where`` value: the field names a per-rep-week lever


@dataclass(frozen=True)
class Shown:
    """Where an aggregate appears: fields of one view's result.

    ``fields`` are DataFrame columns or dataclass attributes (``"*"``: the whole result;
    ``"a.b"``: column ``b`` of the DataFrame held in attribute ``a``). ``where`` limits them to the
    rows or items whose field ``where[0]`` equals ``where[1]`` (or is :data:`SET`, or names a
    :data:`PER_REP_WEEK` lever); a field that the row does not have is read from the call (its
    metric). ``reorders``: the rows are sorted by these fields, so their order depends on them.
    """

    view: str
    fields: tuple[str, ...]
    where: tuple[str, str] | None = None
    reorders: bool = False


@dataclass(frozen=True)
class Aggregate:
    key: str
    what: str
    includes: str  # whose rows
    min_group: int  # the fewest ``unit`` it may be computed over
    unit: str  # 'reps', 'teams' or 'deals'
    roles: tuple[str, ...]  # who is shown it among reps and managers
    shown_in: tuple[Shown, ...]
    only_for: str = "everyone"  # 'everyone', or 'new rep': a rep with too short a baseline
    rule: str = ""


_TARGET = ("target", SET)
_GOAL_IS_TARGET = ("goal_kind", "target")

AGGREGATES: dict[str, Aggregate] = {a.key: a for a in (
    Aggregate(
        "lever_standard",
        "A per-rep-week lever's target: the initiative-wide baseline per rep-week raised by the "
        "target change (one standard for everyone), and what is scored against it.",
        "every rep of the initiative's teams (the whole company for a company-wide one) in its "
        "baseline weeks", 4, "reps", ("rep", "manager"),
        (Shown("pace", ("goal_rate",), _GOAL_IS_TARGET),
         Shown("streaks", ("weeks", "at_or_above"), _GOAL_IS_TARGET),
         Shown("rep_trend", ("target",)),
         Shown("initiative_progress", ("target_value", "attainment", "expected_value", "on_pace"),
               ("metric_id", PER_REP_WEEK)),
         Shown("initiative_trend", ("target", "pace"), ("metric", PER_REP_WEEK)),
         Shown("trend", ("target", "pace"), ("metric", PER_REP_WEEK)),
         Shown("lever_target", ("*",)),
         Shown("lever_targets", ("*",)),
         Shown("lever_weeks", ("target", "score"), _TARGET),
         Shown("off_track", ("*",), _TARGET),
         Shown("levers_to_push", ("goal", "vs_goal", "vs_goal_points", "push"), _GOAL_IS_TARGET,
               reorders=True)),
        rule="the viewer and at least 3 others behind any average (issue 14, item 5)"),
    Aggregate(
        "team_average",
        "The rep's current team per period, one number each, beside the rep's own trend.",
        "every rep of the rep's current team", 4, "reps", ("rep",),
        (Shown("rep_trend", ("team_average",)), Shown("team_average", ("*",))),
        rule="the rep and at least 3 others (issue 14, item 5)"),
    Aggregate(
        "team_baseline",
        "A new rep (employed for less than half of the baseline weeks) is compared with their "
        "team's baseline instead of their own ramp-up weeks.",
        "every rep of the team the new rep is in on the day viewed", 4, "reps", ("rep",),
        (Shown("cards", ("baseline", "vs_baseline"), ("note", SET)),
         Shown("initiative_progress", ("baseline", "change_pct", "target_value", "attainment",
                                       "expected_value", "on_pace"), ("note", SET)),
         Shown("pace", ("goal_rate", "own_rate")),
         Shown("streaks", ("weeks", "at_or_above")),
         Shown("rep_trend", ("baseline", "band_lo", "band_hi", "target", "pace")),
         Shown("initiative_trend", ("baseline", "band_lo", "band_hi", "target", "pace")),
         Shown("trend", ("baseline", "band_lo", "band_hi", "target", "pace")),
         Shown("lever_weeks", ("own_baseline", "score")),
         Shown("off_track", ("*",)),
         Shown("own_baselines", ("*",)),
         Shown("levers_to_push", ("goal", "vs_goal", "vs_goal_points", "push"),
               ("goal_kind", "team baseline"), reorders=True)),
        only_for="new rep", rule="the new rep and at least 3 others (issue 14, item 5)"),
    Aggregate(
        "lead_lag",
        "Whether a lever leads an output, by how many weeks and how strongly: the team x week "
        "panel of every team, no rep named.",
        "every team, each rep on their current team, over the last year", 3, "teams",
        ("rep", "manager"),
        (Shown("lead_lags", ("*",)),
         Shown("levers_to_push", ("leads", "lag", "lag_low", "lag_high", "strength", "low",
                                  "high", "p_value", "verdict", "detail", "led_before", "stopped",
                                  "push"), reorders=True)),
        rule="kpi.insights.lead_lag.MIN_TEAMS: fewer teams are 'too little data'"),
    Aggregate(
        "forecast_history",
        "The odds that an open deal is won by the quarter end and the revenue each new "
        "opportunity brings, learnt from the last four quarters.",
        "every deal of the company open at the same point of each of the last four quarters",
        30, "deals", ("manager",),
        (Shown("quarter_forecast", ("open_expected", "new_expected", "low", "high",
                                    "by_stage.win_by_quarter_end", "by_stage.expected")),),
        rule="kpi.insights.forecast.MIN_DEALS per stage rate"),
    Aggregate(
        "data_dates",
        "The first and last day with any data (dates only, no values): the date pickers' bounds "
        "and the 'data through' day.",
        "every rep", 1, "reps", ("rep", "manager"),
        (Shown("data_range", ("*",)), Shown("as_of", ("*",)))),
)}


def shown_in(view: str) -> list[tuple[Aggregate, Shown]]:
    """The declared aggregates a view's result carries, with where it carries them."""
    return [(a, s) for a in AGGREGATES.values() for s in a.shown_in if s.view == view]
