"""One rep's levers: pace to the period's goal, streaks, trends vs own baseline, and outputs.

Drawn for the rep themselves (My levers) and for their manager (Coaching), always within the
one-rep scope.
"""

from __future__ import annotations

import streamlit as st

from kpi import charts
from kpi.engine import Scope
from kpi.summary import format_value
from kpi.views import Pace
from ui import data, widgets
from ui.frame import Page

PERIOD_WORD = {"week": "this week", "month": "this month", "quarter": "this quarter"}


def show(page: Page, scope: Scope, you: bool) -> None:
    """``scope``: the one rep, as :func:`kpi.people.narrow` bounded it for the viewer."""
    rep_id, levers = scope.ids[0], page.shown("levers")
    st.subheader("Pace" if not you else "My pace")
    if not levers:
        widgets.empty("The metric catalog shows no lever to your role.")
        return
    paces = data.pace(scope, levers, page.day, page.initiative)
    if not paces:
        widgets.empty("No lever data for this rep yet.")
    grain = st.segmented_control("Period", ["week", "month", "quarter"], default="week",
                                 key="w:pace_period", format_func=str.capitalize) or "week"
    for p in [p for p in paces if p.grain == grain]:
        _pace_row(p, you)

    st.subheader("Streaks")
    streaks = data.streaks(scope, levers[:3], page.day, page.initiative)
    cols = st.columns(max(len(streaks), 1))
    for col, s in zip(cols, streaks, strict=False):
        word = "at or above" if s.at_or_above else "below"
        col.metric(s.label, f"{s.weeks} week{'s' if s.weeks != 1 else ''}",
                   f"{word} {s.goal_kind}", delta_arrow="up" if s.at_or_above else "down",
                   delta_color="normal" if s.at_or_above else "inverse",
                   border=True, help="Complete weeks in a row on the same side of the goal.")

    st.subheader("Levers against " + ("my" if you else "their") + " own baseline")
    lever = widgets.choice("Lever", levers, "lever", levers[0],
                           format_func=lambda m: page.metric(m).label)
    grain = widgets.grain(default="week")
    window = widgets.date_range(page.default_window(years=1), page.bounds)
    trend = data.rep_trend(scope, lever, grain, window, page.initiative)
    if trend.empty:
        widgets.empty("No activity in this range.")
    else:
        rollout = page.initiative.rollout_date if page.initiative else None
        basis = str(trend["baseline_of"].iloc[0])
        if basis != "own":
            st.caption(widgets.sentence(widgets.md(basis)))
        widgets.chart(widgets.figure(charts.progress, trend, page.metric(lever), rollout,
                                     baseline_name="Own baseline" if basis == "own"
                                     else "Team baseline"),
                      trend, f"{lever}_{rep_id}_{grain}", page.metric(lever))

    st.subheader("Outputs" if not you else "My outputs")
    cards = data.cards(page.shown("consequences"), "quarter", page.day, scope, page.initiative)
    widgets.metric_cards(cards)


def _pace_row(p: Pace, you: bool) -> None:
    if p.goal is None:
        st.markdown(f"**{p.label}** {PERIOD_WORD[p.grain]}: {format_value(p.actual, _unit(p))} "
                    "— no target and no baseline yet to pace against.")
        return
    more = p.more_to_stay_on_pace or 0
    name = p.label.lower()
    if more > 0:
        verb = "You need" if you else "Needs"
        line = (f"{verb} **{format_value(more, _unit(p))} more {name}** {PERIOD_WORD[p.grain]} "
                "to stay on pace")
    else:
        line = f"**On pace** for {name} {PERIOD_WORD[p.grain]}"
    st.markdown(f"{line} — {format_value(p.actual, _unit(p))} so far; the {p.goal_kind} for the "
                f"{p.grain} is {_goal(p)}.")
    st.progress(min(p.actual / p.goal, 1.0) if p.goal else 0.0)


def _goal(p: Pace) -> str:
    return format_value(p.goal, "currency") if _unit(p) == "currency" else f"{p.goal:.1f}"


def _unit(p: Pace) -> str:
    return "currency" if p.unit == "currency" or p.lever == "pipeline_created" else "count"
