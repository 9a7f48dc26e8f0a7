"""Which levers lead the outputs, and which to push."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from kpi.baseline import baseline_basis, relative_change, value_of, window_request
from kpi.catalog import Catalog
from kpi.engine import Engine, Scope
from kpi.initiatives import Initiative
from kpi.periods import period_start, quarter_ends
from kpi.schema import Role
from kpi.views.context import baseline_window
from kpi.views.levers import lever_target

if TYPE_CHECKING:  # the insights import statsmodels and scipy: loaded when first used
    from kpi.insights.lead_lag import LeadLag


LEAD_OUTPUT = "win_rate"  # the output levers are pushed for: first in the lead-lag tests


def lead_pairs(catalog: Catalog) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The levers and the outputs the lead-lag tests pair, every role's (one table, kept once
    per data version): the catalog's `shown_in: [lead_lag]`, win rate first among the outputs."""
    shown = catalog.shown("lead_lag")
    levers = tuple(m for m in shown if catalog.get(m).kind == "lever")
    outputs = sorted((m for m in shown if catalog.get(m).kind == "output"),
                     key=lambda m: m != LEAD_OUTPUT)
    return levers, tuple(outputs)


def seen_leads(catalog: Catalog, leads: pd.DataFrame, role: Role | None) -> pd.DataFrame:
    """The rows of a :func:`lead_lags` table whose lever and output a viewer of ``role`` sees."""
    if leads.empty:
        return leads
    seen = {m.id for m in catalog.for_role(role)} if role is not None else set(catalog.ids())
    keep = leads["lever"].isin(seen) & leads["output"].isin(seen)
    return leads[keep].reset_index(drop=True)


def lead_lags(engine: Engine, levers: tuple[str, ...], outputs: tuple[str, ...],
              day: dt.date) -> pd.DataFrame:
    """Each lever against each output over the last year (all teams, no rep named), with the
    verdict at the previous quarter end so a lever that stopped predicting is flagged."""
    from kpi.insights.lead_lag import lead_lag, panel, stopped_predicting, window

    previous = quarter_ends(day - dt.timedelta(days=1), 1)[0]  # the last review before today
    start, end = window(previous)[0], window(day)[1]
    panels = {m: panel(engine, m, start, end) for m in dict.fromkeys([*levers, *outputs])}
    rows = []
    for output in outputs:
        for lever in levers:
            now = lead_lag(engine, lever, output, day, boot=200, panels=panels)
            before = lead_lag(engine, lever, output, previous, boot=0, panels=panels)
            rows.append({
                "lever": lever, "output": output, "lever_label": engine.catalog.get(lever).label,
                "output_label": engine.catalog.get(output).label, "leads": now.leads,
                "lag": now.lag, "lag_low": now.lag_low, "lag_high": now.lag_high,
                "strength": now.strength, "low": now.low, "high": now.high,
                "p_value": now.p_value, "verdict": now.headline, "detail": now.message,
                "led_before": before.leads,
                "stopped": stopped_predicting(before, now), "previous": previous})
    return pd.DataFrame(rows)


def lead_lag_detail(engine: Engine, lever: str, output: str, day: dt.date) -> LeadLag:
    """One lever against one output, with its curve by lag (the same run as in the table)."""
    from kpi.insights.lead_lag import lead_lag

    return lead_lag(engine, lever, output, day, boot=200)


def lead_lag_review(engine: Engine, lever: str, output: str, day: dt.date) -> pd.DataFrame:
    """The lead-lag verdict at each of the last four quarter ends."""
    from kpi.insights.lead_lag import review

    return review(engine, lever, output, day)


def levers_to_push(engine: Engine, scope: Scope, day: dt.date, initiative: Initiative | None,
                   leads: pd.DataFrame, output: str = "win_rate") -> pd.DataFrame:
    """For a team or a rep: each lever's evidence of leading ``output`` (``leads``, from
    :func:`lead_lags` over all teams) beside the scope's last four complete weeks against its
    goal, levers to push first.

    The goal is the initiative's target, else the scope's own baseline (for a rep employed for
    less than half of the baseline weeks, their team's, as on My levers). ``push`` marks a lever
    that leads the output and is below its goal. ``vs_goal`` is a fraction (-0.12: 12% below),
    ``vs_goal_points`` the same in percent points.
    """
    leads = seen_leads(engine.catalog, leads, scope.role)
    table = leads[leads["output"] == output].copy()
    end = period_start(day, "week") - dt.timedelta(days=1)
    start = end - dt.timedelta(weeks=4) + dt.timedelta(days=1)
    base = baseline_window(initiative, day)
    levers = list(table["lever"])
    basis = baseline_basis(engine, base, scope, day)  # as My levers has it
    own_kind = "own baseline" if basis.scope is None or basis.own else "team baseline"
    asked = {lever: window_request(lever, start, end, scope) for lever in levers}
    based = {} if basis.scope is None or base.end < base.start else {
        lever: window_request(lever, base.start, base.end, basis.scope) for lever in levers}
    answers = engine.answers([*asked.values(), *based.values()])  # the section in one query
    recent, goals, kinds = [], [], []
    for lever in levers:
        recent.append(value_of(answers[asked[lever]]))
        own = value_of(answers[based[lever]]) if lever in based else None
        target = lever_target(engine, initiative, lever, day, own)
        goals.append(target if target is not None else own)
        kinds.append("target" if target is not None else own_kind)
    table["recent"], table["goal"], table["goal_kind"] = recent, goals, kinds
    table["vs_goal"] = [relative_change(g, r) for r, g in zip(recent, goals, strict=True)]
    table["vs_goal_points"] = table["vs_goal"] * 100  # as a table shows a signed percent
    table["push"] = table["leads"] & (table["vs_goal"].fillna(0) < 0)
    table["weeks"] = f"{start:%d %b}–{end:%d %b %Y}"
    order = table.assign(_rank=~table["push"], _leads=~table["leads"])
    return order.sort_values(["_rank", "_leads", "vs_goal"]).drop(
        columns=["_rank", "_leads"]).reset_index(drop=True)
