"""What a strategy rollout caused, and its targets' history."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpi.catalog import Catalog
from kpi.engine import Engine
from kpi.initiatives import Initiative


def target_history(engine: Engine, initiative: Initiative) -> pd.DataFrame:
    """Every target version, oldest first (nothing is ever overwritten)."""
    rows = [(engine.catalog.get(t.metric_id).label, t.change_pct, t.effective_from, t.note)
            for m in initiative.metric_ids() for t in initiative.target_history(m)]
    return pd.DataFrame(rows, columns=["metric", "target_change", "effective_from", "note"])


def review_history(engine: Engine, initiative: Initiative) -> pd.DataFrame:
    rows = [(r.review_date, r.learned, r.author) for r in initiative.reviews]
    return pd.DataFrame(rows, columns=["review_date", "learned", "author"])


def rollout_effects(engine: Engine, initiative: Initiative,
                    metric_ids: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """The rollout's estimated effect on each per-rep-week lever, with its placebo (company-wide)."""
    from kpi.insights.rollout import estimate

    levers = [m for m in metric_ids if engine.catalog.get(m).per_rep_week]
    # the estimate and its placebo read the same weeks when no team is left over
    cache: dict[Any, pd.DataFrame] = {}
    return [(estimate(engine, initiative, m, cache=cache),
             estimate(engine, initiative, m, shift_weeks=26, cache=cache)) for m in levers]


def rollout_output_effects(engine: Engine, initiative: Initiative,
                           metric_ids: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """The rollout's effect on rate outputs (an interrupted time series), with its placebo."""
    from kpi.insights.rollout import estimate_output

    cache: dict[Any, pd.DataFrame] = {}
    return [(estimate_output(engine, initiative, m, cache=cache),
             estimate_output(engine, initiative, m, shift_weeks=26, cache=cache))
            for m in metric_ids]


ROLLOUT_OUTPUTS = ("win_rate",)  # outputs whose rollout effect the time series estimates


def rollout_levers(catalog: Catalog, initiative: Initiative) -> tuple[str, ...]:
    """The levers whose rollout effect the executive's Insights page estimates: the initiative's
    own first, then those of the lever pages and of the lead-lag tests an executive sees."""
    shown = [*catalog.shown("levers", "executive"), *catalog.shown("lead_lag", "executive")]
    return tuple(dict.fromkeys([*initiative.metric_ids(),
                                *(m for m in shown if catalog.get(m).kind == "lever")]))
