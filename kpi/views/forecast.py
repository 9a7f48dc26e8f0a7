"""Where the quarter will land, and the pipeline it needs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from kpi.engine import Engine, Scope

if TYPE_CHECKING:  # the insights import statsmodels and scipy: loaded when first used
    from kpi.insights.forecast import Forecast


def quarter_forecast(engine: Engine, scope: Scope, day: dt.date) -> Forecast:
    """Revenue and quota attainment at the end of the quarter containing ``day``, with a range.

    The past quarters' stage odds (company-wide) are read from the insights kept after the last
    import when they are there, so a team's forecast only reads its own open deals."""
    from kpi.insights import stored
    from kpi.insights.forecast import forecast, past_quarters

    return forecast(engine, scope, day, past=stored.answer(engine, past_quarters, day))


def pipeline_coverage_needed(engine: Engine, scope: Scope, day: dt.date) -> pd.DataFrame:
    """Per segment: the pipeline the rest of the quarter needs at the segment's own win rate."""
    from kpi.insights.forecast import coverage

    return coverage(engine, scope, day)
